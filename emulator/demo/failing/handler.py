"""Always raises, so tests can see a Failed call with the user's traceback."""


def _explode(data):
    raise ValueError(f"boom: {data.get('reason', 'no reason given')}")


def handle(data):
    print("about to fail")
    _explode(data)
