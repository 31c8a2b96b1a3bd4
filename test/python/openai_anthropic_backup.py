"""What real apps sent through the sidecar when their OpenAI primary was down
and an Anthropic backup served them (issue 10): the official openai SDK,
configured by the environment (OPENAI_BASE_URL, OPENAI_API_KEY).

    python openai_anthropic_backup.py

Runs every case and prints one JSON line: case name -> what the app saw,
or {"error": ...} when the call failed. `user` tells the fake backup which
reply to give (it arrives as Anthropic's metadata.user_id).
"""
import json

import openai
import pydantic
from openai import OpenAI

client = OpenAI(max_retries=0)


class Weather(pydantic.BaseModel):
    city: str
    temperature_c: float


WEATHER_FN = {
    "name": "get_weather",
    "description": "The weather in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}


def chat(**kw):
    c = client.chat.completions.create(**kw)
    m = c.choices[0].message
    return {
        "content": m.content,
        "finish_reason": c.choices[0].finish_reason,
        "reasoning_content": getattr(m, "reasoning_content", None),
        "function_call": m.function_call.model_dump() if m.function_call else None,
        "tool_calls": len(m.tool_calls or []),
    }


def stream(**kw):
    text, reasoning, finish, fn_name, fn_args, usage = "", "", [], "", "", None
    for chunk in client.chat.completions.create(stream=True, **kw):
        if chunk.usage:
            usage = chunk.usage.model_dump(exclude_none=True)
        for ch in chunk.choices:
            d = ch.delta
            text += d.content or ""
            reasoning += getattr(d, "reasoning_content", None) or ""
            if d.function_call:
                fn_name += d.function_call.name or ""
                fn_args += d.function_call.arguments or ""
            if ch.finish_reason:
                finish.append(ch.finish_reason)
    return {"text": text, "reasoning_content": reasoning, "finish_reasons": finish, "function_call": {"name": fn_name, "arguments": fn_args}, "usage": usage}


def parse(**kw):
    c = client.chat.completions.parse(**kw)
    return {"parsed": c.choices[0].message.parsed.model_dump(), "content": c.choices[0].message.content}


ask = [{"role": "user", "content": "What's the weather in Paris?"}]

CASES = {
    # 5: histories OpenAI accepts
    "leading_assistant": lambda: chat(model="chat", messages=[
        {"role": "assistant", "content": "Hi! I'm your travel assistant. How can I help?"},
        {"role": "user", "content": "Plan a day in Oslo."},
    ]),
    "same_role_runs": lambda: chat(model="chat", messages=[
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "First question."},
        {"role": "user", "content": "Second question."},
        {"role": "assistant", "content": ""},
        {"role": "user", "content": "Third question."},
    ]),
    "system_only": lambda: chat(model="chat", messages=[{"role": "system", "content": "Write a haiku about failover."}]),
    "empty_content": lambda: chat(model="chat", messages=[{"role": "user", "content": ""}]),
    "whitespace_prefill": lambda: chat(model="chat", messages=ask + [{"role": "assistant", "content": "  "}]),
    # 7: stop sequences Anthropic refuses
    "stop_newline": lambda: chat(model="chat", messages=ask, stop=["\n"], user="lines"),
    "stop_stream": lambda: stream(model="chat", messages=ask, stop=["\n\n"], user="paragraphs", stream_options={"include_usage": True}),
    # 7: legacy functions
    "functions": lambda: chat(model="chat", messages=ask, functions=[WEATHER_FN], user="tool"),
    "functions_stream": lambda: stream(model="chat", messages=ask, functions=[WEATHER_FN], function_call={"name": "get_weather"}, user="tool"),
    # 7: reasoning_effort
    "reasoning": lambda: chat(model="chat", messages=ask, reasoning_effort="low", max_tokens=300, temperature=0.3),
    "reasoning_stream": lambda: stream(model="chat", messages=ask, reasoning_effort="high"),
    "reasoning_adaptive": lambda: chat(model="opus", messages=ask, reasoning_effort="medium"),
    # 7: structured outputs
    "parse": lambda: parse(model="chat", messages=ask, response_format=Weather),
    "parse_old_model": lambda: chat(model="old", messages=ask, response_format={
        "type": "json_schema", "json_schema": {"name": "weather", "strict": True, "schema": Weather.model_json_schema()}}),
    # 7: max_tokens defaults
    "no_max_tokens": lambda: chat(model="chat", messages=ask, user="long"),
    "capped": lambda: chat(model="capped", messages=ask),
}


def main():
    out = {"sdk": "openai " + openai.__version__}
    for name, run in CASES.items():
        try:
            out[name] = run()
        except openai.APIStatusError as e:
            out[name] = {"error": {"status": e.status_code, "message": str(e.message)}}
        except Exception as e:  # noqa: BLE001 - the test prints what broke
            out[name] = {"error": {"status": None, "message": repr(e)}}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
