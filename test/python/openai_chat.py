"""An app as an app is written: the official openai SDK, configured only by
the environment (OPENAI_BASE_URL, OPENAI_API_KEY), calling the sidecar.

    python openai_chat.py MODEL

Makes one chat completion and one stream with include_usage, and prints
what it saw as one JSON line for the test to check.
"""
import json
import sys

import openai
from openai import OpenAI


def main(model):
    client = OpenAI(max_retries=0)
    messages = [{"role": "user", "content": "Say hello."}]

    raw = client.chat.completions.with_raw_response.create(model=model, messages=messages)
    completion = raw.parse()

    stream = client.chat.completions.create(
        model=model, messages=messages, stream=True, stream_options={"include_usage": True}
    )
    text, finish_reasons, usage = "", [], None
    for chunk in stream:
        for choice in chunk.choices:
            text += choice.delta.content or ""
            if choice.finish_reason:
                finish_reasons.append(choice.finish_reason)
        if chunk.usage:
            usage = chunk.usage.model_dump(exclude_none=True)

    print(json.dumps({
        "sdk": "openai " + openai.__version__,
        "chat": {
            "content": completion.choices[0].message.content,
            "finish_reason": completion.choices[0].finish_reason,
            "usage": completion.usage.model_dump(exclude_none=True) if completion.usage else None,
            "headers": {k: v for k, v in raw.headers.items() if k.startswith("x-llmroute-")},
        },
        "stream": {"text": text, "finish_reasons": finish_reasons, "usage": usage},
    }))


if __name__ == "__main__":
    main(sys.argv[1])
