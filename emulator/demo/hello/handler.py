def handle(data):
    name = (data or {}).get("name", "world")
    print(f"Hello, {name}!")
    return {"greeting": f"Hello, {name}!"}
