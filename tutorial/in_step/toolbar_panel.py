"""A django-debug-toolbar panel, "Signals sent": what the request in view sent, in order.

For each signal: its sender, its arguments, and each receiver called, with where it is
defined, what it returned or raised, and how long it took. Signals sent on commit are
among them, as the request sent them, and the tasks it enqueued are listed apart.

Built on tutorial.in_step.tracer, which records one block at a time: requests are
traced one after another. The toolbar keeps each request's stats as JSON, so the panel
records strings and numbers only; its history panel shows a redirected POST's own.
"""

import threading

from debug_toolbar.panels import Panel
from django.utils.html import format_html, format_html_join

from tutorial.in_step.tracer import trace_signals

# One trace at a time: runserver's threads take turns through the traced part.
_one_request_at_a_time = threading.Lock()


class SignalsSentPanel(Panel):
    title = "Signals sent"

    def process_request(self, request):
        with _one_request_at_a_time, trace_signals() as trace:
            response = super().process_request(request)
        self.record_stats({"events": [event_stats(event) for event in trace.events]})
        return response

    @property
    def nav_subtitle(self):
        events = self.get_stats().get("events", [])
        tasks = sum(event["signal"].endswith(".task_enqueued") for event in events)
        sent = f"{len(events)} sent"
        return f"{sent}, {tasks} task(s) enqueued" if tasks else sent

    @property
    def content(self):
        events = self.get_stats().get("events", [])
        if not events:
            return format_html("<p>{}</p>", "This request sent no signal.")
        tasks = [event for event in events if event["signal"].endswith(".task_enqueued")]
        return format_html(
            "{}{}",
            signals_table(events),
            format_html(
                "<h4>Tasks enqueued</h4><ul>{}</ul>",
                format_html_join("", "<li>{}</li>", ((event["arguments"],) for event in tasks)),
            )
            if tasks
            else "",
        )


def event_stats(event):
    return {
        "signal": event.signal,
        "sender": event.sender,
        "arguments": ", ".join(f"{key}={value}" for key, value in event.arguments.items()),
        "depth": event.depth,
        "calls": [
            {
                "receiver": call.receiver,
                "location": call.location,
                "outcome": f"{call.outcome} {call.value}",
                "milliseconds": round(call.milliseconds, 2),
            }
            for call in event.calls
        ],
    }


def signals_table(events):
    rows = []
    for number, event in enumerate(events, 1):
        indent = "\u2003" * event["depth"]
        rows.append(
            format_html(
                "<tr><td>{}</td><td>{}<code>{}</code></td><td>{}</td><td colspan=3>{}</td></tr>",
                number,
                indent,
                event["signal"],
                event["sender"],
                event["arguments"],
            )
        )
        rows += [
            format_html(
                "<tr><td></td><td>{}\u2192 <code>{}</code></td><td>{}</td><td>{}</td>"
                "<td>{} ms</td><td></td></tr>",
                indent,
                call["receiver"],
                call["location"],
                call["outcome"],
                f"{call['milliseconds']:.2f}",
            )
            for call in event["calls"]
        ]
    return format_html(
        "<table><thead><tr><th>#</th><th>signal / receiver</th><th>sender / defined at</th>"
        "<th colspan=3>arguments / result, time</th></tr></thead><tbody>{}</tbody></table>",
        format_html_join("", "{}", ((row,) for row in rows)),
    )
