"""The pages citizens and staff use: server-rendered HTML in Danish over the JSON APIs."""
