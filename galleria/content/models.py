"""Home layout (one draft per group, published versions) and the images banners use.

Images are stored in the database (a banner image is at most GALLERIA_CONTENT_IMAGE_MAX_BYTES): no MEDIA storage to
configure or back up separately, and the serving view sets long cache headers because an image never changes
(its URL carries its SHA-256).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from galleria.malls.models import MallGroup


class ContentImage(models.Model):
    mall_group = models.ForeignKey(MallGroup, on_delete=models.PROTECT, related_name="+")
    sha256 = models.CharField(max_length=64)
    content_type = models.CharField(max_length=20)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    size_bytes = models.PositiveIntegerField()
    data = models.BinaryField()
    name = models.CharField(_("file name"), max_length=120, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.CharField(max_length=100, blank=True)

    class Meta:
        verbose_name = _("image")
        verbose_name_plural = _("images")
        constraints = [models.UniqueConstraint(fields=["mall_group", "sha256"], name="content_image_unique_in_group")]


class HomeLayoutDraft(models.Model):
    """The group's working copy. `revision` goes up on every change: an edit based on an older revision is refused
    (two editors never silently overwrite each other)."""

    mall_group = models.OneToOneField(MallGroup, on_delete=models.PROTECT, related_name="+")
    blocks = models.JSONField(default=list)
    revision = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.CharField(max_length=100, blank=True)


class HomeLayoutVersion(models.Model):
    """A published layout; the highest version of a group is live. Never edited: publishing adds a version."""

    mall_group = models.ForeignKey(MallGroup, on_delete=models.PROTECT, related_name="+")
    version = models.PositiveIntegerField()
    blocks = models.JSONField(default=list)
    published_at = models.DateTimeField(auto_now_add=True)
    published_by = models.CharField(max_length=100, blank=True)
    draft_revision = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["mall_group", "version"], name="home_layout_version_unique_in_group")
        ]
        ordering = ["-version"]
