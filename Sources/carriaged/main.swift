print("carriaged: not built yet")
