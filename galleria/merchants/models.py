from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from galleria.core.models import TimeStampedModel
from galleria.malls.models import Mall


class Category(models.TextChoices):
    DINING = "dining", _("Dining")
    FASHION = "fashion", _("Fashion")
    KIDS = "kids", _("Kids")
    SUPERMARKET = "supermarket", _("Supermarket")
    CINEMA = "cinema", _("Cinema")
    BEAUTY = "beauty", _("Beauty")
    SPORTS = "sports", _("Sports")
    SERVICES = "services", _("Lifestyle services")
    ELECTRONICS = "electronics", _("Electronics")
    JEWELRY = "jewelry", _("Jewellery & watches")
    HOME = "home", _("Home")
    ENTERTAINMENT = "entertainment", _("Entertainment")
    EDUCATION = "education", _("Education")


class MerchantStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    SUSPENDED = "suspended", _("Suspended")
    TERMINATED = "terminated", _("Terminated")


class Merchant(TimeStampedModel):
    mall = models.ForeignKey(Mall, on_delete=models.PROTECT, related_name="merchants", verbose_name=_("mall"))
    name = models.CharField(_("name"), max_length=100)
    category = models.CharField(_("category"), max_length=20, choices=Category.choices)
    status = models.CharField(_("status"), max_length=12, choices=MerchantStatus.choices, default="active")
    legal_name = models.CharField(_("legal name"), max_length=150, blank=True)
    credit_code = models.CharField(_("unified social credit code"), max_length=18, blank=True)
    contact_name = models.CharField(_("contact name"), max_length=50, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=20, blank=True)
    contract_no = models.CharField(_("contract number"), max_length=40, blank=True)
    contract_starts_on = models.DateField(_("contract start"), null=True, blank=True)
    contract_ends_on = models.DateField(_("contract end"), null=True, blank=True)
    commission_bp = models.PositiveIntegerField(
        _("commission (basis points)"), default=0, help_text=_("1 basis point = 0.01 percent of sales")
    )
    area_m2 = models.PositiveIntegerField(_("area (m²)"), default=0)
    # What the member app shows (the directory and the merchant page). Hours: empty = the mall's hours.
    short_description = models.CharField(_("short description"), max_length=120, blank=True)
    opens_at = models.TimeField(_("opens at"), null=True, blank=True, help_text=_("Empty: the mall's hours"))
    closes_at = models.TimeField(_("closes at"), null=True, blank=True, help_text=_("Empty: the mall's hours"))

    class Meta:
        verbose_name = _("merchant")
        verbose_name_plural = _("merchants")
        constraints = [
            models.UniqueConstraint(fields=["mall", "name"], name="merchant_name_unique_in_mall"),
            models.CheckConstraint(condition=Q(commission_bp__lte=10000), name="merchant_commission_max_100pct"),
            models.CheckConstraint(
                condition=Q(contract_ends_on__isnull=True)
                | Q(contract_starts_on__isnull=True)
                | Q(contract_ends_on__gte=models.F("contract_starts_on")),
                name="merchant_contract_dates_ordered",
            ),
            models.CheckConstraint(
                condition=Q(opens_at__isnull=True, closes_at__isnull=True)
                | Q(opens_at__isnull=False, closes_at__isnull=False),
                name="merchant_hours_both_or_neither",
            ),
        ]
        indexes = [models.Index(fields=["mall", "category"])]

    def __str__(self) -> str:
        return self.name


class Store(TimeStampedModel):
    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="stores", verbose_name=_("merchant"))
    name = models.CharField(_("name"), max_length=100)
    floor = models.CharField(_("floor"), max_length=10)
    unit_no = models.CharField(_("unit number"), max_length=20)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("store")
        verbose_name_plural = _("stores")
        constraints = [models.UniqueConstraint(fields=["merchant", "unit_no"], name="store_unit_unique_per_merchant")]

    def __str__(self) -> str:
        return f"{self.name} {self.unit_no}"


class PosTerminal(TimeStampedModel):
    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="terminals", verbose_name=_("store"))
    name = models.CharField(_("name"), max_length=60)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("POS terminal")
        verbose_name_plural = _("POS terminals")

    def __str__(self) -> str:
        return self.name


class PosKey(models.Model):
    """A POS terminal's API credential. The secret is never stored: it is derived from the server's key
    (GALLERIA_POS_KEY_SECRET) and this row's random salt, shown once at creation, and re-derived to verify."""

    terminal = models.ForeignKey(PosTerminal, on_delete=models.CASCADE, related_name="keys")
    key_id = models.CharField(_("key id"), max_length=40, unique=True)
    salt = models.CharField(max_length=64)
    label = models.CharField(_("label"), max_length=60, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.CharField(_("created by"), max_length=100, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("POS API key")
        verbose_name_plural = _("POS API keys")


class PosNonce(models.Model):
    """Nonces seen per key inside the clock-skew window: a reused nonce is a replay."""

    key = models.ForeignKey(PosKey, on_delete=models.CASCADE, related_name="+", db_index=False)  # unique (key, nonce)
    nonce = models.CharField(max_length=64)
    seen_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key", "nonce"], name="pos_nonce_unique_per_key")]
