import a_module_that_does_not_exist  # the import error a broken KO gives


def run(json_input):
    return json_input
