

def run(json_input):
    return json_input
