"""An app as anthropic-python users write it, pointed at the sidecar by the
environment (ANTHROPIC_BASE_URL=http://127.0.0.1:PORT, no /v1, and any
ANTHROPIC_API_KEY), as the sidecar injects them:

    client = Anthropic()
    client.messages.create(model=ROUTE, max_tokens=..., messages=...)

    python anthropic_messages.py TO_OPENAI TO_ANTHROPIC OPENAI_ONLY

TO_OPENAI is a route whose anthropic primary is down and whose OpenAI backup
serves (translated); TO_ANTHROPIC one whose OpenAI primary is down and whose
anthropic backup serves (natively); OPENAI_ONLY one with OpenAI targets only (count_tokens
is answered with the sidecar's estimate there). Prints one JSON line: case name -> what
the app saw, or {"error": ...} when the SDK raised, so one failing case does
not hide the others.
"""
import json
import sys
import traceback

import anthropic
from anthropic import Anthropic

client = Anthropic(max_retries=0)

TOOLS = [{
    "name": "get_weather",
    "description": "The weather in a city.",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}]
QUESTION = [{"role": "user", "content": "What is the weather in Oslo?"}]

calls = []


def get_weather(city):
    calls.append(city)
    return f"Sunny in {city}, 21 C"


def blocks(message):
    return [b.type for b in message.content]


def create(route):
    raw = client.messages.with_raw_response.create(model=route, max_tokens=300, system="Be brief.", messages=[{"role": "user", "content": "Say hello."}])
    m = raw.parse()
    return {
        "type": m.type,
        "role": m.role,
        "content": [b.model_dump(exclude_none=True) for b in m.content],
        "stop_reason": m.stop_reason,
        "usage": {"input_tokens": m.usage.input_tokens, "output_tokens": m.usage.output_tokens},
        "headers": {k: v for k, v in raw.headers.items() if k.startswith("x-llmroute-")},
    }


def create_stream(route):
    types, text, stop_reason = [], "", None
    for event in client.messages.create(model=route, max_tokens=300, messages=[{"role": "user", "content": "Say hello."}], stream=True):
        types.append(event.type)
        if event.type == "content_block_delta" and event.delta.type == "text_delta":
            text += event.delta.text
        if event.type == "message_delta":
            stop_reason = event.delta.stop_reason
    return {"types": types, "text": text, "stop_reason": stop_reason}


def stream_helper(route):
    with client.messages.stream(model=route, max_tokens=300, messages=[{"role": "user", "content": "Say hello."}]) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    return {"text": text, "final_content": [b.model_dump(exclude_none=True) for b in final.content], "stop_reason": final.stop_reason}


def run_tools(route, first, **kw):
    """Executes the first answer's tool_use blocks and sends the results back: the second answer."""
    uses = [b for b in first.content if b.type == "tool_use"]
    results = [{"type": "tool_result", "tool_use_id": u.id, "content": get_weather(**u.input)} for u in uses]
    messages = QUESTION + [{"role": "assistant", "content": first.content}, {"role": "user", "content": results}]
    second = client.messages.create(model=route, max_tokens=kw.pop("max_tokens", 300), tools=TOOLS, messages=messages, **kw)
    return uses, second


def tools_loop(route):
    calls.clear()
    first = client.messages.create(model=route, max_tokens=300, tools=TOOLS, messages=QUESTION)
    uses, second = run_tools(route, first)
    return {
        "first": {"stop_reason": first.stop_reason, "blocks": blocks(first), "uses": [{"name": u.name, "input": u.input} for u in uses]},
        "executed": list(calls),
        "answer": [b.model_dump(exclude_none=True) for b in second.content],
        "stop_reason": second.stop_reason,
    }


def tools_stream(route):
    """A tool call through the stream helper: input_json deltas, the parsed input in the final message."""
    partial = []
    with client.messages.stream(model=route, max_tokens=300, tools=TOOLS, messages=QUESTION) as stream:
        for event in stream:
            if event.type == "content_block_delta" and event.delta.type == "input_json_delta":
                partial.append(event.delta.partial_json)
        final = stream.get_final_message()
    return {"json_streamed": "".join(partial), "stop_reason": final.stop_reason, "uses": [{"name": b.name, "input": b.input} for b in final.content if b.type == "tool_use"]}


THINKING = {"type": "enabled", "budget_tokens": 2048}


def thinking_tools(route):
    """Extended thinking in a tool loop: the thinking block (with its signature) goes back unchanged with the tool result."""
    calls.clear()
    first = client.messages.create(model=route, max_tokens=4096, thinking=THINKING, tools=TOOLS, messages=QUESTION)
    thinking = [b for b in first.content if b.type == "thinking"]
    uses, second = run_tools(route, first, max_tokens=4096, thinking=THINKING)
    return {
        "first_blocks": blocks(first),
        "signature": thinking[0].signature if thinking else None,
        "thinking": thinking[0].thinking if thinking else None,
        "executed": list(calls),
        "second_blocks": blocks(second),
        "answer": "".join(b.text for b in second.content if b.type == "text"),
    }


def thinking_stream(route):
    thought, sig_deltas = "", 0
    with client.messages.stream(model=route, max_tokens=4096, thinking=THINKING, messages=[{"role": "user", "content": "Say hello."}]) as stream:
        for event in stream:
            if event.type == "thinking":
                thought += event.thinking
            if event.type == "signature":
                sig_deltas += 1
        final = stream.get_final_message()
    blocks_ = [b for b in final.content if b.type == "thinking"]
    return {
        "thinking_streamed": thought,
        "signature_events": sig_deltas,
        "final_blocks": blocks(final),
        "final_signature": blocks_[0].signature if blocks_ else None,
        "text": "".join(b.text for b in final.content if b.type == "text"),
    }


def thinking_translated(route):
    m = client.messages.create(model=route, max_tokens=4096, thinking=THINKING, messages=[{"role": "user", "content": "Say hello."}])
    text = "".join(b.text for b in m.content if b.type == "text")
    with client.messages.stream(model=route, max_tokens=4096, thinking=THINKING, messages=[{"role": "user", "content": "Say hello."}]) as stream:
        streamed = "".join(stream.text_stream)
    return {"blocks": blocks(m), "text": text, "stop_reason": m.stop_reason, "streamed": streamed}


def count_tokens(route):
    raw = client.messages.with_raw_response.count_tokens(model=route, system="Be brief.", tools=TOOLS, messages=QUESTION)
    c = raw.parse()
    return {"input_tokens": c.input_tokens, "estimated": raw.headers.get("x-llmroute-estimated")}


def run(fn, *args):
    try:
        return fn(*args)
    except Exception as e:  # the test shows which case failed and how
        return {"error": f"{type(e).__name__}: {e}", "trace": traceback.format_exc()[-1500:]}


def main(to_openai, to_anthropic, openai_only):
    out = {"sdk": "anthropic " + anthropic.__version__}
    out["create"] = run(create, to_openai)
    out["create_stream"] = run(create_stream, to_openai)
    out["stream_helper"] = run(stream_helper, to_openai)
    out["tools_loop"] = run(tools_loop, to_openai)
    out["tools_stream"] = run(tools_stream, to_openai)
    out["native_create"] = run(create, to_anthropic)
    out["native_stream_helper"] = run(stream_helper, to_anthropic)
    out["native_tools_loop"] = run(tools_loop, to_anthropic)
    out["thinking_native"] = run(thinking_tools, to_anthropic)
    out["thinking_native_stream"] = run(thinking_stream, to_anthropic)
    out["thinking_translated"] = run(thinking_translated, to_openai)
    out["count_tokens_native_backup"] = run(count_tokens, to_anthropic)
    out["count_tokens_estimate"] = run(count_tokens, openai_only)
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3])
