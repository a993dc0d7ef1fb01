"""`build_repair_graph()`: the repair loop as a compiled LangGraph graph.

    generate -> review -> (fix ->) execute -> evaluate -> finish
                  |          |                    |
                  +----------+--------------------+--> diagnose -> repair -> review ...
                                                             |
                                                             +--> end (stuck, budget, unsupported, failed...)

Nodes and routers live in `nodes.py`; the state in `state.py`; what the nodes use (model, sandbox, limits,
store) in the runtime context (`context.py`).
"""

from __future__ import annotations

from typing import Any

from langgraph.graph import END, START, StateGraph

from cloudinspect.loop import nodes
from cloudinspect.loop.context import RepairContext
from cloudinspect.loop.state import RepairState


def build_repair_graph(checkpointer: Any = None) -> Any:
    """The compiled repair graph. `checkpointer`: a LangGraph checkpointer (SqliteSaver for resumable runs), or
    None (no persistence: tests, drawing)."""
    graph = StateGraph(RepairState, context_schema=RepairContext)
    graph.add_node("generate", nodes.generate)
    graph.add_node("review", nodes.review)
    graph.add_node("fix", nodes.fix)
    graph.add_node("execute", nodes.execute)
    graph.add_node("evaluate", nodes.evaluate)
    graph.add_node("finish", nodes.finish)
    graph.add_node("diagnose", nodes.diagnose)
    graph.add_node("repair", nodes.repair)
    graph.add_edge(START, "generate")
    graph.add_conditional_edges("generate", nodes.after_generation, ["review", "diagnose"])
    graph.add_conditional_edges("repair", nodes.after_generation, ["review", "diagnose"])
    graph.add_conditional_edges("review", nodes.after_review, ["fix", "execute", "diagnose"])
    graph.add_conditional_edges("fix", nodes.after_fix, ["execute", "diagnose"])
    graph.add_edge("execute", "evaluate")
    graph.add_conditional_edges("evaluate", nodes.after_evaluate, ["finish", "diagnose"])
    graph.add_edge("finish", END)
    graph.add_conditional_edges("diagnose", nodes.after_diagnose, ["repair", END])
    return graph.compile(checkpointer=checkpointer, name="cloudinspect-repair")


def repair_graph_mermaid() -> str:
    """The graph drawn as Mermaid (`cloudinspect graph repair`)."""
    return str(build_repair_graph().get_graph().draw_mermaid())
