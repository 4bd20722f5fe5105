"""A handler that imports a helper module shipped beside it."""

from helper import shout


def handle(data):
    return {"shout": shout(data.get("text", "hello"))}
