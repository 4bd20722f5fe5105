"""Echoes its input back, with the call info and the names of its secrets."""


def handle(data, secrets, function_call_info):
    return {"data": data, "secret_names": sorted(secrets or {}), "call_info": function_call_info}
