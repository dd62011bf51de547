"""A composite alarm's ActionsSuppressor: whether its actions run now, later or not yet.

When a composite alarm with a suppressor changes state, its actions are held:

- by "Alarm" while the suppressor alarm is in ALARM;
- by "ExtensionPeriod" for ActionsSuppressorExtensionPeriod seconds after the suppressor
  left ALARM;
- by "WaitPeriod", for a change to ALARM, up to ActionsSuppressorWaitPeriod seconds while
  the composite alarm waits for the suppressor to go into ALARM.

A held change is kept in the alarm's config under "_suppression" ({"by", "reason",
"state", "old_state", "due"}); the evaluator looks at it again whenever the suppressor
changes state and when `due` (service clock) has passed. It is dropped when the composite
alarm changes state again, and its actions run once nothing holds them any more.
"""

from __future__ import annotations

import math

from cloudlet.services.cloudwatch.alarms_evaluation import ALARM
from cloudlet.services.cloudwatch.alarms_store import Alarm

LEFT_ALARM_AT = "_left_alarm_at"


def hold(alarm: Alarm, suppressor: Alarm | None, state: str, old_state: str, now: float,
         *, may_wait: bool = True, waiting_since: float | None = None) -> dict | None:
    """The hold on the actions of `alarm`'s change old_state → state at `now`, or None
    when they run now. Only a fresh change, or one already waiting (since
    `waiting_since`), waits for the suppressor."""
    if suppressor is None:
        return None
    config = alarm.config
    held = {"state": state, "old_state": old_state}
    if suppressor.state_value == ALARM:
        return {**held, "by": "Alarm", "due": math.inf,
                "reason": f"Alarm {suppressor.name} is in ALARM state"}
    left = suppressor.config.get(LEFT_ALARM_AT)
    extension = config.get("ActionsSuppressorExtensionPeriod") or 0
    if left is not None and now < left + extension:
        return {**held, "by": "ExtensionPeriod", "due": left + extension,
                "reason": f"Extension period after alarm {suppressor.name} left ALARM state"}
    wait = config.get("ActionsSuppressorWaitPeriod") or 0
    started = now if waiting_since is None else waiting_since
    if may_wait and state == ALARM and now < started + wait and (left is None or
                                                                 left < started):
        return {**held, "by": "WaitPeriod", "due": started + wait, "since": started,
                "reason": f"Waiting for alarm {suppressor.name} to go into ALARM state"}
    return None


def describe(alarm: Alarm) -> dict:
    held = alarm.config.get("_suppression")
    if not held:
        return {}
    return {"ActionsSuppressedBy": held["by"], "ActionsSuppressedReason": held["reason"]}
