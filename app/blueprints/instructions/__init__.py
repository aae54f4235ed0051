"""Instructions (指令): the desk's order to one unit about one incident, and the unit's feedback."""
