"""Builders for the AMI actions the gateway sends (each returns the action's header dict)."""

from __future__ import annotations

from collections.abc import Mapping

Action = dict[str, object]


def login(username: str, secret: str, events: str = "on") -> Action:
    return {"Action": "Login", "Username": username, "Secret": secret, "Events": events}


def ping() -> Action:
    return {"Action": "Ping"}


def originate(channel: str, *, context: str | None = None, exten: str | None = None,
              priority: int | str = 1, application: str | None = None, data: str | None = None,
              channel_id: str | None = None, other_channel_id: str | None = None,
              caller_id: str | None = None, timeout_ms: int | None = None,
              variables: Mapping[str, str] | None = None, account: str | None = None,
              async_: bool = True) -> Action:
    """``Originate`` to a dialplan location or an application; ``channel_id`` presets the new
    channel's uniqueid (``;1`` side of a Local channel), so its events can be tracked at once."""
    if (application is None) == (context is None or exten is None):
        raise ValueError("originate needs either context+exten or application")
    action: Action = {"Action": "Originate", "Channel": channel}
    if application is not None:
        action.update({"Application": application, "Data": data})
    else:
        action.update({"Context": context, "Exten": exten, "Priority": str(priority)})
    action.update({
        "ChannelId": channel_id, "OtherChannelId": other_channel_id, "CallerID": caller_id,
        "Timeout": str(timeout_ms) if timeout_ms is not None else None, "Account": account,
        "Async": "true" if async_ else "false",
    })
    if variables:
        action["Variable"] = [f"{k}={v}" for k, v in variables.items()]
    return action


def redirect(channel: str, context: str, exten: str, priority: int | str = 1, *,
             extra_channel: str | None = None, extra_context: str | None = None,
             extra_exten: str | None = None, extra_priority: int | str | None = None) -> Action:
    """``Redirect``; with ``extra_channel`` both legs move at once (a dual redirect keeps the
    bridge partner from being hung up when the first leg leaves)."""
    action: Action = {"Action": "Redirect", "Channel": channel, "Context": context, "Exten": exten,
                      "Priority": str(priority)}
    if extra_channel:
        action.update({
            "ExtraChannel": extra_channel, "ExtraContext": extra_context or context,
            "ExtraExten": extra_exten or exten,
            "ExtraPriority": str(extra_priority if extra_priority is not None else priority),
        })
    return action


def confbridge_kick(conference: str, channel: str) -> Action:
    return {"Action": "ConfbridgeKick", "Conference": conference, "Channel": channel}


def confbridge_list(conference: str) -> Action:
    return {"Action": "ConfbridgeList", "Conference": conference}


def hangup(channel: str, cause: int | None = None) -> Action:
    return {"Action": "Hangup", "Channel": channel, "Cause": str(cause) if cause is not None else None}


def getvar(variable: str, channel: str | None = None) -> Action:
    return {"Action": "Getvar", "Channel": channel, "Variable": variable}


def setvar(variable: str, value: str, channel: str | None = None) -> Action:
    return {"Action": "Setvar", "Channel": channel, "Variable": variable, "Value": value}


def mixmonitor(channel: str, file: str, options: str | None = None, command: str | None = None) -> Action:
    return {"Action": "MixMonitor", "Channel": channel, "File": file, "Options": options,
            "Command": command}


def stop_mixmonitor(channel: str, mixmonitor_id: str | None = None) -> Action:
    return {"Action": "StopMixMonitor", "Channel": channel, "MixMonitorID": mixmonitor_id}


def queue_status(queue: str | None = None, member: str | None = None) -> Action:
    return {"Action": "QueueStatus", "Queue": queue, "Member": member}


def core_show_channels() -> Action:
    return {"Action": "CoreShowChannels"}


def user_event(name: str, **headers: str) -> Action:
    return {"Action": "UserEvent", "UserEvent": name, **headers}
