"""Pure rules of staff sign-in: failure windows, TOTP matching (no replay), recovery codes, the sealed secret."""

from __future__ import annotations

import datetime as dt

import pyotp
import pytest

from galleria.accounts import rules

T0 = dt.datetime(2026, 3, 1, 10, 0, tzinfo=dt.UTC)
LIMIT = rules.Limit(max_failures=5, window_seconds=900, lock_seconds=900)


def fresh() -> rules.ThrottleState:
    return rules.ThrottleState(failures=0, window_started_at=T0, locked_until=None)


class TestFailureWindow:
    def test_the_fifth_failure_in_the_window_locks_for_the_lock_time(self):
        state = fresh()
        for i in range(4):
            state = rules.after_failure(state, now=T0 + dt.timedelta(minutes=i), limit=LIMIT)
            assert not rules.is_locked(state, now=T0 + dt.timedelta(minutes=i))
        state = rules.after_failure(state, now=T0 + dt.timedelta(minutes=4), limit=LIMIT)
        assert state.locked_until == T0 + dt.timedelta(minutes=19)
        assert rules.is_locked(state, now=T0 + dt.timedelta(minutes=18, seconds=59))
        assert not rules.is_locked(state, now=T0 + dt.timedelta(minutes=19))

    def test_failures_older_than_the_window_do_not_count(self):
        state = fresh()
        for _ in range(4):
            state = rules.after_failure(state, now=T0, limit=LIMIT)
        state = rules.after_failure(state, now=T0 + dt.timedelta(minutes=15), limit=LIMIT)
        assert state.failures == 1 and state.locked_until is None

    def test_after_a_lock_counting_starts_again(self):
        state = fresh()
        for _ in range(5):
            state = rules.after_failure(state, now=T0, limit=LIMIT)
        later = T0 + dt.timedelta(minutes=16)
        state = rules.after_failure(state, now=later, limit=LIMIT)
        assert state.failures == 1 and not rules.is_locked(state, now=later)

    def test_account_key_is_case_folded_and_bounded(self):
        assert rules.account_key("  Admin ") == "admin"
        assert len(rules.account_key("x" * 500)) == 150


class TestTotp:
    SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"

    def test_matches_pyotp_and_rfc6238_step(self):
        code = pyotp.TOTP(self.SECRET).at(T0)
        assert rules.totp_match(secret=self.SECRET, code=code, now=T0, after_step=0) == rules.totp_step(T0)

    def test_previous_and_next_step_accepted_older_refused(self):
        step = rules.totp_step(T0)
        for offset, ok in ((-2, False), (-1, True), (1, True), (2, False)):
            code = rules.totp_code(secret=self.SECRET, step=step + offset)
            assert (rules.totp_match(secret=self.SECRET, code=code, now=T0, after_step=0) is not None) is ok

    def test_a_code_at_or_before_the_last_accepted_step_is_a_replay(self):
        step = rules.totp_step(T0)
        code = rules.totp_code(secret=self.SECRET, step=step)
        assert rules.totp_match(secret=self.SECRET, code=code, now=T0, after_step=step) is None
        older = rules.totp_code(secret=self.SECRET, step=step - 1)
        assert rules.totp_match(secret=self.SECRET, code=older, now=T0, after_step=step) is None

    @pytest.mark.parametrize("code", ["", "12345", "1234567", "abcdef", None])
    def test_malformed_codes_never_match(self, code):
        assert rules.totp_match(secret=self.SECRET, code=code, now=T0, after_step=0) is None

    def test_spaces_in_a_code_are_ignored(self):
        code = rules.totp_code(secret=self.SECRET, step=rules.totp_step(T0))
        spaced = f"{code[:3]} {code[3:]}"
        assert rules.totp_match(secret=self.SECRET, code=spaced, now=T0, after_step=0) is not None

    def test_provisioning_uri(self):
        uri = rules.totp_uri(secret=self.SECRET, account="admin", issuer="Galleria")
        assert uri.startswith("otpauth://totp/Galleria:admin?") and f"secret={self.SECRET}" in uri


class TestRecoveryCodes:
    def test_ten_distinct_readable_codes(self):
        codes = rules.recovery_codes_new()
        assert len(codes) == 10 == len(set(codes))
        for code in codes:
            assert len(code) == 11 and code[5] == "-"
            assert set(code.replace("-", "")) <= set(rules.RECOVERY_ALPHABET)

    def test_hash_is_keyed_and_ignores_case_spaces_and_dashes(self):
        h = rules.recovery_hash(key="k1", code="abcde-fghjk")
        assert h == rules.recovery_hash(key="k1", code=" ABCDE FGHJK ")
        assert h != rules.recovery_hash(key="k2", code="abcde-fghjk")
        assert "abcde" not in h


class TestSeal:
    def test_round_trip_and_no_plaintext_at_rest(self):
        sealed = rules.seal("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", key="server-key")
        assert "JBSWY3DP" not in sealed
        assert rules.unseal(sealed, key="server-key") == "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
        assert sealed != rules.seal("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", key="server-key")  # random nonce

    def test_wrong_key_or_tampering_is_refused(self):
        sealed = rules.seal("SECRET", key="server-key")
        with pytest.raises(ValueError):
            rules.unseal(sealed, key="other-key")
        version, body = sealed.split("$")
        flipped = body[:30] + ("A" if body[30] != "A" else "B") + body[31:]
        with pytest.raises(ValueError):
            rules.unseal(f"{version}${flipped}", key="server-key")
        with pytest.raises(ValueError):
            rules.unseal("v0$abc", key="server-key")
