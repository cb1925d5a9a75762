"""WeChat Pay 智慧商圈 and 分账 calls (the MallGateway half of WechatGateway).

商圈 goes through the SDK's core `request()` rather than its business-circle helpers: `points_notify` refuses
`earn_points=False` / `increased_points=0` (which the API allows, with `no_points_remarks`), and
`business_point_status` / `business_parking_sync` are broken in 2.0.4 (full URL appended to the host; a TypeError).

分账: the SDK encrypts each receiver's `name` IN PLACE in the list it is given (RSA-OAEP with the platform public
key), so a retry with the same list would encrypt the ciphertext again. `profit_share` therefore builds a fresh
list of fresh dicts inside every attempt.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import quote

from wechatpayv3.type import RequestType

from .base import ProfitShareReceiver, ProfitShareResult
from .wechat_client import Answer, WechatClient
from .wire import rfc3339_cn

NO_POINTS_DEFAULT = "本单不参与积分"


class WechatMallMixin(WechatClient):
    # --- 商圈 ------------------------------------------------------------------------------------------------------
    def mall_points_notify(
        self,
        *,
        transaction_id: str,
        openid: str,
        earned: bool,
        points: int,
        updated_at: dt.datetime,
        no_points_reason: str = "",
        total_points: int | None = None,
    ) -> None:
        if points < 0 or (earned and points == 0):
            raise ValueError("earned points must be positive; report no points with earned=False")
        data: dict[str, Any] = {
            "appid": self.config.app_id,
            "transaction_id": transaction_id,
            "openid": openid,
            "earn_points": earned,
            "increased_points": points if earned else 0,
            "points_update_time": rfc3339_cn(updated_at),
        }
        if not earned:
            data["no_points_remarks"] = no_points_reason or NO_POINTS_DEFAULT
        if total_points is not None:
            data["total_points"] = total_points
        answer = self._request(
            lambda: self._wx._core.request(
                "/v3/businesscircle/points/notify", method=RequestType.POST, data=dict(data)
            ),
            what="points_notify",
        )
        self._ok(answer, what="points_notify", expect=(200, 204))

    def mall_user_authorized(self, *, openid: str) -> bool:
        path = f"/v3/businesscircle/user-authorizations/{quote(openid, safe='')}?appid={quote(self.config.app_id)}"
        data = self._ok(
            self._request(lambda: self._wx._core.request(path), what="user_authorization"), what="user_authorization"
        )
        return data.get("authorize_state") == "AUTHORIZED"

    # --- 分账 ------------------------------------------------------------------------------------------------------
    def profit_share(
        self,
        *,
        transaction_id: str,
        out_order_no: str,
        receivers: list[ProfitShareReceiver],
        unfreeze_unsplit: bool,
    ) -> ProfitShareResult:
        if not receivers or any(r.amount_fen <= 0 for r in receivers):
            raise ValueError("profit sharing needs receivers with positive amounts")

        def attempt() -> Answer:
            fresh = [_receiver_dict(r) for r in receivers]  # the SDK encrypts `name` in place: never reuse a list
            return self._wx.profitsharing_order(
                transaction_id=transaction_id,
                out_order_no=out_order_no,
                receivers=fresh,
                unfreeze_unsplit=unfreeze_unsplit,
            )

        return _result(self._ok(self._request(attempt, what="profitsharing_order"), what="profitsharing_order"))

    def profit_share_query(self, *, transaction_id: str, out_order_no: str) -> ProfitShareResult | None:
        status, body = self._request(
            lambda: self._wx.profitsharing_order_query(transaction_id=transaction_id, out_order_no=out_order_no),
            what="profitsharing_query",
        )
        if status == 404:
            return None
        return _result(self._ok((status, body), what="profitsharing_query"))

    def profit_share_add_receiver(self, *, receiver: ProfitShareReceiver) -> None:
        answer = self._request(
            lambda: self._wx.profitsharing_add_receiver(
                account_type=receiver.type,
                account=receiver.account,
                relation_type=receiver.relation_type,
                name=receiver.name or None,
            ),
            what="profitsharing_add_receiver",
        )
        self._ok(answer, what="profitsharing_add_receiver")

    def profit_share_unsplit(self, *, transaction_id: str) -> int:
        answer = self._request(
            lambda: self._wx.profitsharing_amount_query(transaction_id=transaction_id), what="profitsharing_amounts"
        )
        return int(self._ok(answer, what="profitsharing_amounts")["unsplit_amount"])

    def profit_share_unfreeze(self, *, transaction_id: str, out_order_no: str, description: str) -> ProfitShareResult:
        """Give the rest of a transaction's frozen funds back to the merchant (POST /v3/profitsharing/orders/unfreeze).
        Not part of the MallGateway protocol; `unfreeze_unsplit=True` on the last share does the same."""
        answer = self._request(
            lambda: self._wx.profitsharing_unfreeze(
                transaction_id=transaction_id, out_order_no=out_order_no, description=description
            ),
            what="profitsharing_unfreeze",
        )
        return _result(self._ok(answer, what="profitsharing_unfreeze"))


def _receiver_dict(receiver: ProfitShareReceiver) -> dict[str, Any]:
    out: dict[str, Any] = {
        "type": receiver.type,
        "account": receiver.account,
        "amount": receiver.amount_fen,
        "description": receiver.description,
    }
    if receiver.name:
        out["name"] = receiver.name
    return out


def _result(data: dict[str, Any]) -> ProfitShareResult:
    return ProfitShareResult(
        out_order_no=str(data.get("out_order_no", "")),
        order_id=str(data.get("order_id", "")),
        state=str(data.get("state", "")),
        receivers=[
            {
                "account": r.get("account", ""),
                "type": r.get("type", ""),
                "amount": int(r.get("amount", 0)),
                "result": r.get("result", ""),
                "fail_reason": r.get("fail_reason", ""),
                "detail_id": r.get("detail_id", ""),
            }
            for r in data.get("receivers") or []
        ],
    )
