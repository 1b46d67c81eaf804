def welcome(json_input):
    return "Welcome to Knowledge Grid, " + json_input["name"]


def boom(json_input):
    raise ValueError("bad input")


def echo(json_input):
    return json_input


def no_input():
    return "called without the input"
