"""Uses the client it is given: lists the functions of its project, and can call another one."""


def handle(client, data):
    names = sorted(fn.name for fn in client.functions.list(limit=-1))
    result = {"functions": names, "project": client.config.project}
    target = (data or {}).get("call")
    if target:
        call = client.functions.call(external_id=target, data=data.get("payload", {}))
        result["inner"] = {"status": call.status, "response": call.get_response()}
    return result
