"""`build_troubleshoot_graph()`: the troubleshooting workflow as a compiled LangGraph graph.

    understand -> plan -> inspect -> collect -> diagnose -> remediate -> end
                   ^  |                            |
                   |  +-> nothing new to inspect -+-> remediate (or collect, when nothing ran yet)
                   +--------- inconclusive and rounds left

Nodes and routers live in `nodes.py`; the state and the runtime context in `state.py`.
"""

from __future__ import annotations

from typing import Any

from langgraph.graph import END, START, StateGraph

from cloudinspect.troubleshoot import nodes
from cloudinspect.troubleshoot.state import TroubleshootContext, TroubleshootState


def build_troubleshoot_graph(checkpointer: Any = None) -> Any:
    """The compiled troubleshooting graph. `checkpointer`: a LangGraph checkpointer, or None (the default: a run
    is short, and its inspections are recorded by the repair loop)."""
    graph = StateGraph(TroubleshootState, context_schema=TroubleshootContext)
    graph.add_node("understand", nodes.understand)
    graph.add_node("plan", nodes.plan)
    graph.add_node("inspect", nodes.inspect)
    graph.add_node("collect", nodes.collect)
    graph.add_node("diagnose", nodes.diagnose)
    graph.add_node("remediate", nodes.remediate)
    graph.add_edge(START, "understand")
    graph.add_edge("understand", "plan")
    graph.add_conditional_edges("plan", nodes.after_plan, ["inspect", "collect", "remediate"])
    graph.add_edge("inspect", "collect")
    graph.add_edge("collect", "diagnose")
    graph.add_conditional_edges("diagnose", nodes.after_diagnose, ["plan", "remediate"])
    graph.add_edge("remediate", END)
    return graph.compile(checkpointer=checkpointer, name="cloudinspect-troubleshoot")


def troubleshoot_graph_mermaid() -> str:
    """The graph drawn as Mermaid (`cloudinspect graph troubleshoot`)."""
    return str(build_troubleshoot_graph().get_graph().draw_mermaid())
