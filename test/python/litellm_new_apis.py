"""An app as litellm users write it for the Responses API and for Anthropic's
Messages API, pointed at the sidecar:

    litellm.responses(model="openai/ROUTE", api_base="http://127.0.0.1:PORT/v1", api_key="unused", input=...)
    await litellm.anthropic.messages.acreate(model="anthropic/ROUTE", api_base="http://127.0.0.1:PORT", api_key="unused", max_tokens=..., messages=...)

    LITELLM_LOCAL_MODEL_COST_MAP=True python litellm_new_apis.py RESPONSES_ROUTE MESSAGES_ROUTE

(LLMROUTE_BASE_URL is the sidecar's /v1 URL.) Makes a Responses call, a
Responses stream and a Messages call, and prints one JSON
line: case name -> what the app saw, or {"error": ...} when litellm raised,
so one failing case does not hide the others. (No Messages stream:
litellm 1.110.2 imports its proxy server, and so fastapi, to stream one,
and the tests' venv does not have fastapi.)
"""
import asyncio
import importlib.metadata
import json
import os
import sys
import traceback

import litellm

BASE = os.environ["LLMROUTE_BASE_URL"]
ORIGIN = BASE.removesuffix("/v1")


def responses(route):
    r = litellm.responses(model="openai/" + route, api_base=BASE, api_key="unused", input="Say hello.", num_retries=0)
    texts = [c.text for item in r.output if item.type == "message" for c in item.content if c.type == "output_text"]
    return {"status": r.status, "text": "".join(texts), "output_tokens": r.usage.output_tokens}


def responses_stream(route):
    types, deltas, completed = [], [], None
    for event in litellm.responses(model="openai/" + route, api_base=BASE, api_key="unused", input="Say hello.", stream=True, num_retries=0):
        t = getattr(event, "type", None)
        types.append(str(t.value if hasattr(t, "value") else t))
        if types[-1] == "response.output_text.delta":
            deltas.append(event.delta)
        if types[-1] == "response.completed":
            completed = event.response.status
    return {"text": "".join(deltas), "first": types[:1], "last": types[-1:], "completed": completed}


def field(obj, name):
    return obj[name] if isinstance(obj, dict) else getattr(obj, name)


async def messages(route):
    m = await litellm.anthropic.messages.acreate(
        model="anthropic/" + route, api_base=ORIGIN, api_key="unused", max_tokens=300, messages=[{"role": "user", "content": "Say hello."}]
    )
    content = [{"type": field(b, "type"), "text": field(b, "text")} for b in field(m, "content")]
    return {"type": field(m, "type"), "content": content, "stop_reason": field(m, "stop_reason")}


def run(fn, *args):
    try:
        result = fn(*args)
        return asyncio.run(result) if asyncio.iscoroutine(result) else result
    except Exception as e:  # the test shows which case failed and how
        return {"error": f"{type(e).__name__}: {e}", "trace": traceback.format_exc()[-1500:]}


def main(responses_route, messages_route):
    out = {"sdk": "litellm " + importlib.metadata.version("litellm")}
    out["responses"] = run(responses, responses_route)
    out["responses_stream"] = run(responses_stream, responses_route)
    out["messages"] = run(messages, messages_route)
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
