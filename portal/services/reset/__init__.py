"""Self-service password reset: who may reset, the flow's state, verification, and the write,
driven by steps.py (one function per request of the /reset blueprint).

Audit events written by the reset and change flows (outcome: success, failure, refused, unknown;
`reason` a short code, never a code, answer or password):

- reset.identify      a name was entered; success when the account may reset, else refused with
                      unknown_account, out_of_scope, disabled, protected, no_methods, paused or
                      rate_limited (the page is the same in every case)
- reset.method        a verification method was chosen (details: method); refused when throttled,
                      or paused (questions are shown only when the guard admits one more attempt)
- reset.verify        a code, authenticator code or answers were checked (details: method);
                      refused (reason paused) when the guard admitted no attempt: nothing compared
- reset.paused        too many failed verifications: the account's reset is paused
- reset.password      the new password was written (success), refused by the rules or the
                      directory (failure, reason: the rule or directory error), or the directory
                      went silent after the write (unknown)
- reset.unlock        "unlock my account", with the same outcomes
- reset.cancelled     the person cancelled the reset
- reset.step_refused  a request that does not fit the flow (no_flow, wrong_step, replayed, ended,
                      expired, busy, not_this_browser, no_longer_eligible)
- reset.unavailable   the directory could not be reached; nothing changed
- password.change     /change: success, failure (wrong_password, a rule, a directory error),
                      refused (throttled) or unknown
"""
