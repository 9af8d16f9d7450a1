"""The agent: task handlers run on a machine that reaches Legato over HTTP only.

    from legato import Handlers
    from legato.agent import HttpWorker

    handlers = Handlers()

    @handlers("invoice.check")
    def check(job):
        return {"ok": job.variables["amount"] < 1000}

    HttpWorker("https://legato.example.com", token, handlers).run()   # until stop()

`legato agent --server URL --token T --handlers module` runs the same from the command
line (docs/workers.md). It imports httpx and the handler types (`legato.runtime.handlers`),
never the store or the engine (an import-linter contract in pyproject.toml keeps it so).
"""

from legato.agent._http_worker import AgentSettings, AgentStats, HttpWorker

__all__ = ["AgentSettings", "AgentStats", "HttpWorker"]
