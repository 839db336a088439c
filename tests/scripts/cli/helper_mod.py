def double(x):
    return x * 2

def fail():
    raise LookupError("from the helper")
