"""Commerce errors: each a stable `code` (problem+json, docs/points-mall.md "Errors") and a translatable message."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from galleria.core.errors import ApplicationError, ConflictError, NotFoundError, ValidationError


class ProductNotFoundError(NotFoundError):
    code = "commerce.not_found"

    def default_message(self) -> str:
        return str(_("No such item."))


class OrderNotFoundError(NotFoundError):
    code = "commerce.order_not_found"

    def default_message(self) -> str:
        return str(_("No such order."))


class ProductInvalidError(ValidationError):
    code = "commerce.product_invalid"


class NotOnSaleError(ApplicationError):
    code = "commerce.not_on_sale"
    status = 409

    def default_message(self) -> str:
        return str(_("This item is not on sale now."))


class OutOfStockError(ApplicationError):
    code = "commerce.out_of_stock"
    status = 409

    def default_message(self) -> str:
        return str(_("Sorry, this item has run out."))


class LimitReachedError(ApplicationError):
    code = "commerce.limit_reached"
    status = 409

    def default_message(self) -> str:
        return str(_("You have reached the limit for this item."))


class DailyLimitReachedError(ApplicationError):
    code = "commerce.daily_limit_reached"
    status = 409

    def default_message(self) -> str:
        return str(_("You have reached today's limit for this item. Come back tomorrow."))


class TierRequiredError(ApplicationError):
    code = "commerce.tier_required"
    status = 403

    def default_message(self) -> str:
        return str(_("This item is for members of a higher tier."))


class ShopClosedError(ApplicationError):
    code = "commerce.closed"
    status = 409

    def default_message(self) -> str:
        return str(_("The points mall is not open."))


class QuantityInvalidError(ValidationError):
    code = "commerce.quantity_invalid"

    def default_message(self) -> str:
        return str(_("Choose a quantity between 1 and 10."))


class AddressRequiredError(ValidationError):
    code = "commerce.address_required"

    def default_message(self) -> str:
        return str(_("Enter the name, phone and address to deliver to."))


class FulfilmentInvalidError(ValidationError):
    code = "commerce.fulfilment_invalid"

    def default_message(self) -> str:
        return str(_("This item cannot be received that way."))


class PriceInvalidError(ValidationError):
    """The points price cannot be paid under the group's points rules (whole multiples, minimum, ¥ value)."""

    code = "commerce.points_price_invalid"


class PriceChangedError(ConflictError):
    code = "commerce.price_changed"

    def default_message(self) -> str:
        return str(_("The price of this item changed. Please check it and confirm again."))


class CancelNotAllowedError(ApplicationError):
    code = "commerce.cannot_cancel"
    status = 409

    def default_message(self) -> str:
        return str(_("This order can no longer be cancelled."))


class CouponUsedError(ApplicationError):
    code = "commerce.coupon_used"
    status = 409

    def default_message(self) -> str:
        return str(_("The coupon of this order has been used: the order cannot be cancelled."))


class OrderStateError(ApplicationError):
    code = "commerce.wrong_state"
    status = 409

    def default_message(self) -> str:
        return str(_("This order is not in a state that allows this."))


class PickupCodeInvalidError(ApplicationError):
    code = "commerce.pickup_code_invalid"
    status = 404

    def default_message(self) -> str:
        return str(_("No order has this pickup code. Check the digits and try again."))


class PickupCodeUsedError(ApplicationError):
    code = "commerce.pickup_code_used"
    status = 409

    def default_message(self) -> str:
        return str(_("This pickup code has already been used: the gift was handed over."))


class IdempotencyConflictError(ConflictError):
    code = "commerce.idempotency_conflict"

    def default_message(self) -> str:
        return str(_("This form was already sent with other details. Please start again."))


class ImageInvalidError(ValidationError):
    code = "commerce.image_invalid"


# ------------------------------------------------------------------------------------------------- online mall


class OnlineClosedError(ApplicationError):
    code = "commerce.online_closed"
    status = 409

    def default_message(self) -> str:
        return str(_("The online mall is not open."))


class ShopInvalidError(ValidationError):
    """A shop's settings refused (a store not of the merchant, a bad phone …): `fields` says which."""

    code = "commerce.shop_invalid"


class SettingsInvalidError(ValidationError):
    code = "commerce.settings_invalid"


class CategoryInvalidError(ValidationError):
    code = "commerce.category_invalid"


class OptionsInvalidError(ValidationError):
    """Options or SKUs refused (too many, a combination twice, a price out of bounds …): `fields` says which."""

    code = "commerce.options_invalid"


class StockInvalidError(ValidationError):
    """A stock count or change refused: below what is promised to orders, above 1,000,000, a store not the shop's."""

    code = "commerce.stock_invalid"


class ShelfInvalidError(ValidationError):
    code = "commerce.shelf_invalid"


class PublishRefusedError(ApplicationError):
    """The product cannot go on sale yet; `extra["problems"]` lists why."""

    code = "commerce.cannot_publish"
    status = 409

    def default_message(self) -> str:
        return str(_("This product cannot go on sale yet."))


class ProductBlockedError(ApplicationError):
    code = "commerce.blocked"
    status = 409

    def default_message(self) -> str:
        return str(_("The mall has taken this product down."))


class CheckoutNotPayableError(ApplicationError):
    code = "commerce.checkout_not_payable"
    status = 409

    def default_message(self) -> str:
        return str(_("This order can no longer be paid."))


class ReturnQuantityExceededError(ApplicationError):
    code = "commerce.return_quantity_exceeded"
    status = 409

    def default_message(self) -> str:
        return str(_("More units than were bought (or are already being returned) cannot be returned."))


class ReturnNotFoundError(NotFoundError):
    code = "commerce.return_not_found"

    def default_message(self) -> str:
        return str(_("No such after-sales request."))


class ReturnStateError(ApplicationError):
    code = "commerce.return_wrong_state"
    status = 409

    def default_message(self) -> str:
        return str(_("This after-sales request is not in a state that allows this."))


class ReviewNotAllowedError(ApplicationError):
    code = "commerce.review_not_allowed"
    status = 409

    def default_message(self) -> str:
        return str(_("This item cannot be reviewed now."))
