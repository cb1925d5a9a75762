"""Points writes. `movements`: earning, spending, claw-backs, behaviour points, adjustments, expiry (inside or as
use cases); `config`: the group's points configuration."""

from .config import (
    behaviour_rule_save,
    earn_rule_save,
    earn_rule_set_active,
    points_campaign_save,
    points_campaign_set_active,
    points_policy_save,
)
from .grants import points_grant_in_tx
from .movements import (
    behaviour_award_in_tx,
    behaviour_award_once,
    points_adjust_decide,
    points_adjust_request,
    points_checkin,
    points_claw_back_in_tx,
    points_credit_in_tx,
    points_expire,
    points_expiry_notices,
    points_return_in_tx,
    points_spend_in_tx,
)

__all__ = [
    "behaviour_award_in_tx",
    "behaviour_award_once",
    "behaviour_rule_save",
    "earn_rule_save",
    "earn_rule_set_active",
    "points_adjust_decide",
    "points_adjust_request",
    "points_campaign_save",
    "points_campaign_set_active",
    "points_checkin",
    "points_claw_back_in_tx",
    "points_credit_in_tx",
    "points_expire",
    "points_expiry_notices",
    "points_grant_in_tx",
    "points_policy_save",
    "points_return_in_tx",
    "points_spend_in_tx",
]
