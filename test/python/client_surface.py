"""The openai SDK's view of the sidecar's HTTP surface, as apps use it:
retries (the SDK's defaults), request ids and rate-limit headers, the
models and legacy completions endpoints, and the AzureOpenAI client.

    python client_surface.py retries MODEL...
    python client_surface.py headers MODEL...
    python client_surface.py endpoints CHAT_MODEL COMPLETIONS_MODEL CHAT_ONLY_MODEL
    python client_surface.py azure AZURE_ENDPOINT API_VERSION CHAT_MODEL EMBED_MODEL

Configured by OPENAI_BASE_URL and OPENAI_API_KEY like any app (but azure,
which names its endpoint). Prints one JSON line.
"""
import json
import sys
import time

import openai
from openai import AzureOpenAI, OpenAI

MESSAGES = [{"role": "user", "content": "Say hello."}]


def error_of(e):
    return {
        "status": e.status_code,
        "code": (e.body or {}).get("code") if isinstance(e.body, dict) else None,
        "message": (e.body or {}).get("message") if isinstance(e.body, dict) else None,
        "x-should-retry": e.response.headers.get("x-should-retry"),
        "retry-after": e.response.headers.get("retry-after"),
    }


def retries(models):
    client = OpenAI()  # the SDK's default max_retries (2)
    out = {"max_retries": client.max_retries}
    for model in models:
        started = time.monotonic()
        try:
            r = client.chat.completions.create(model=model, messages=MESSAGES)
            out[model] = {"ok": True, "content": r.choices[0].message.content}
        except openai.APIStatusError as e:
            out[model] = {"ok": False, **error_of(e)}
        out[model]["seconds"] = round(time.monotonic() - started, 2)
    return out


def passed_on(headers):
    return {k: v for k, v in headers.items() if k in ("x-request-id", "request-id") or "ratelimit" in k}


def headers(models):
    client = OpenAI(max_retries=0)
    out = {}
    for model in models:
        raw = client.chat.completions.with_raw_response.create(model=model, messages=MESSAGES)
        completion = raw.parse()
        with client.chat.completions.with_streaming_response.create(model=model, messages=MESSAGES, stream=True) as s:
            stream_headers = passed_on(s.headers)
            text = "".join(c.choices[0].delta.content or "" for c in s.parse() if c.choices)
        out[model] = {
            "request_id": completion._request_id,
            "headers": passed_on(raw.headers),
            "target": raw.headers.get("x-llmroute-target"),
            "stream": {"headers": stream_headers, "text": text},
        }
    return out


def endpoints(chat_model, completions_model, chat_only_model):
    client = OpenAI(max_retries=0)
    out = {"model": client.models.retrieve(chat_model).model_dump(exclude_none=True)}
    try:
        client.models.retrieve("no-such-model")
    except openai.NotFoundError as e:
        out["unknown_model"] = error_of(e)
    raw = client.completions.with_raw_response.create(model=completions_model, prompt="Say", max_tokens=16)
    c = raw.parse()
    out["completion"] = {
        "object": c.object,
        "text": c.choices[0].text,
        "finish_reason": c.choices[0].finish_reason,
        "usage": c.usage.model_dump(exclude_none=True) if c.usage else None,
        "target": raw.headers.get("x-llmroute-target"),
        "fallbacks": raw.headers.get("x-llmroute-fallbacks"),
    }
    text, usage, finish = "", None, []
    for chunk in client.completions.create(model=completions_model, prompt="Say", stream=True, stream_options={"include_usage": True}):
        for choice in chunk.choices:
            text += choice.text
            if choice.finish_reason:
                finish.append(choice.finish_reason)
        if chunk.usage:
            usage = chunk.usage.model_dump(exclude_none=True)
    out["completion_stream"] = {"text": text, "finish_reasons": finish, "usage": usage}
    try:
        client.completions.create(model=chat_only_model, prompt="Say")
    except openai.BadRequestError as e:
        out["chat_only"] = error_of(e)
    return out


def azure(endpoint, api_version, chat_model, embed_model):
    client = AzureOpenAI(azure_endpoint=endpoint, api_version=api_version, api_key="app-key-that-must-not-travel", max_retries=0)
    out = {}
    raw = client.chat.completions.with_raw_response.create(model=chat_model, messages=MESSAGES)
    out["chat"] = {"content": raw.parse().choices[0].message.content, "route": raw.headers.get("x-llmroute-route")}
    text = ""
    for chunk in client.chat.completions.create(model=chat_model, messages=MESSAGES, stream=True):
        if chunk.choices:
            text += chunk.choices[0].delta.content or ""
    out["stream"] = {"text": text}
    e = client.embeddings.create(model=embed_model, input="hello")
    out["embeddings"] = {"count": len(e.data), "dims": len(e.data[0].embedding)}
    # A client bound to one deployment: the path names the route, whatever `model` says.
    bound = AzureOpenAI(azure_endpoint=endpoint, azure_deployment=chat_model, api_version=api_version, api_key="app-key", max_retries=0)
    raw = bound.chat.completions.with_raw_response.create(model="gpt-4o-whatever", messages=MESSAGES)
    out["bound"] = {"content": raw.parse().choices[0].message.content, "route": raw.headers.get("x-llmroute-route")}
    return out


def main(argv):
    cmd, args = argv[0], argv[1:]
    result = {"retries": lambda: retries(args), "headers": lambda: headers(args), "endpoints": lambda: endpoints(*args), "azure": lambda: azure(*args)}[cmd]()
    print(json.dumps({"sdk": "openai " + openai.__version__, **result}))


if __name__ == "__main__":
    main(sys.argv[1:])
