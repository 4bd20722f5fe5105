"""Sleeps for data["seconds"] (default 0.2) of real time, for timeout and background tests."""

import time


def handle(data):
    seconds = float((data or {}).get("seconds", 0.2))
    time.sleep(seconds)
    return {"slept": seconds}
