"""Human handoff: the queue (queue.py), crisis detection (crisis.py), agents and their logins (agents.py),
what agents do (desk.py) and the console they do it in (console.py, web/agent.html).

The command line: python -m bot.handoff list --json
"""
