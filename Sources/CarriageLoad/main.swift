print("carriage-load: not built yet")
