"""Generation: ask a model for the inspection script of a catalogue prompt, and record how it went.

from cloudinspect.catalog import load_catalog
from cloudinspect.generation import generate_code

artifact = generate_code(load_catalog()["s3-bucket-security-baseline"], {}, "smollm2-135m")
print(artifact.code, artifact.summary())
"""

from cloudinspect.generation._artifact import ChatTurn, CodeArtifact, GeneratedCode, ReplyPiece
from cloudinspect.generation._extract import Extraction, ExtractionMethod, extract_code, services_in, syntax_error
from cloudinspect.generation._generate import (
    TRUNCATION_REASONS,
    GenerationError,
    ModelCallError,
    build_messages,
    finish_reason_of,
    generate_code,
    is_truncated,
    message_text,
    model_label,
)
from cloudinspect.generation._stitch import join_continuation
from cloudinspect.generation._templates import render_template

__all__ = [
    "TRUNCATION_REASONS",
    "ChatTurn",
    "CodeArtifact",
    "Extraction",
    "ExtractionMethod",
    "GeneratedCode",
    "GenerationError",
    "ModelCallError",
    "ReplyPiece",
    "build_messages",
    "extract_code",
    "finish_reason_of",
    "generate_code",
    "is_truncated",
    "join_continuation",
    "message_text",
    "model_label",
    "render_template",
    "services_in",
    "syntax_error",
]
