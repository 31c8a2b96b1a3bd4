"""An app as litellm users write it, pointed at the sidecar as an
OpenAI-compatible server: the `openai/` prefix and api_base.

    litellm.completion(model="openai/ROUTE", api_base="http://127.0.0.1:PORT/v1", api_key="unused", ...)

    LITELLM_LOCAL_MODEL_COST_MAP=True python litellm_chat.py MODEL

(litellm fetches its price list from the internet at import without that
variable.) Makes one completion and one stream, and prints what it saw as
one JSON line for the test to check. Any error ends the script with
litellm's exception.
"""
import importlib.metadata
import json
import os
import sys

import litellm


def main(model):
    common = dict(
        model="openai/" + model,
        api_base=os.environ["LLMROUTE_BASE_URL"],
        api_key="unused",
        messages=[{"role": "user", "content": "Say hello."}],
        num_retries=0,
    )
    reply = litellm.completion(**common)
    text, finish_reasons = "", []
    for chunk in litellm.completion(**common, stream=True):
        for choice in chunk.choices:
            text += choice.delta.content or ""
            if choice.finish_reason:
                finish_reasons.append(choice.finish_reason)
    print(json.dumps({
        "sdk": "litellm " + importlib.metadata.version("litellm"),
        "completion": {
            "content": reply.choices[0].message.content,
            "finish_reason": reply.choices[0].finish_reason,
            "usage": {
                "prompt_tokens": reply.usage.prompt_tokens,
                "completion_tokens": reply.usage.completion_tokens,
                "total_tokens": reply.usage.total_tokens,
            },
        },
        "stream": {"text": text, "finish_reasons": finish_reasons},
    }))


if __name__ == "__main__":
    main(sys.argv[1])
