"""Writes a tiny llama-architecture GGUF with random weights, for tests.

    python make_tiny_llama.py OUT.gguf

Nothing is downloaded and nothing was trained: the weights come from a
seeded generator, so the same script writes the same file, and the model's
text is gibberish made of the words below. What llama.cpp needs to load and
serve it is all there: a SentencePiece-style ("llama") vocabulary with byte
fallback, so any prompt tokenizes; ChatML control tokens and a ChatML chat
template, so /v1/chat/completions works; and 2 layers of dim 64.

Two choices keep the output well-behaved for tests:
- only the word tokens can be generated: the output rows of the control and
  byte tokens are zero while the word rows have large random values, so the
  end-of-generation tokens (logit 0) lose to the best word (logit around 20)
  every time. A reply therefore ends on max_tokens or a stop string, never by
  itself, and it is always valid UTF-8.
- a reply is a chain of whole words, each with its leading space.
"""
import sys

import numpy as np
from gguf import GGUFWriter, TokenType

SEED = 20260611
N_EMBD = 64
N_HEAD = 4
N_LAYER = 2
N_FF = 128
N_CTX = 2048

WORDS = (
    "the of and to in is it you that he was for on are with as his they be at one have this from or had by "
    "hot word but what some we can out other were all there when up use your how said an each she which do "
    "their time if will way about many then them write would like so these her long make thing see him two "
    "has look more day could go come did number sound no most people my over know water than call first who "
    "may down side been now find any new work part take get place made live where after back little only round "
    "man year came show every good me give our under name very through just form sentence great think say help "
    "low line differ turn cause much mean before move right boy old too same tell does set three want air well"
).split()


def vocabulary():
    """(pieces, scores, types): control tokens, 256 byte tokens, characters, then words with every prefix."""
    pieces, scores, types = [], [], []

    def add(piece, score, kind):
        if piece not in seen:
            seen.add(piece)
            pieces.append(piece)
            scores.append(score)
            types.append(kind)

    seen = set()
    add("<unk>", 0.0, TokenType.UNKNOWN)
    add("<s>", 0.0, TokenType.CONTROL)
    add("</s>", 0.0, TokenType.CONTROL)
    add("<|im_start|>", 0.0, TokenType.CONTROL)
    add("<|im_end|>", 0.0, TokenType.CONTROL)
    for b in range(256):
        add("<0x%02X>" % b, 0.0, TokenType.BYTE)
    # Single characters, so most text needs no byte fallback.
    for ch in "\u2581abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,!?'\"-:;()":
        add(ch, -1000.0, TokenType.NORMAL)
    # SentencePiece merges two adjacent pieces when their concatenation is in
    # the vocabulary, best score first: every prefix of "▁word" must be a
    # piece for "▁word" to be reached. Longer pieces score higher.
    for w in WORDS:
        full = "\u2581" + w
        for i in range(2, len(full) + 1):
            add(full[:i], float(i), TokenType.NORMAL)
    return pieces, scores, types


CHATML = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)


def main(out):
    rng = np.random.default_rng(SEED)
    pieces, scores, types = vocabulary()
    n_vocab = len(pieces)
    word_ids = [i for i, p in enumerate(pieces) if p.startswith("\u2581") and p[1:] in WORDS]

    w = GGUFWriter(out, "llama")
    w.add_name("llmroute-tiny-random-llama")
    w.add_description("random weights for tests; its output is gibberish")
    w.add_context_length(N_CTX)
    w.add_embedding_length(N_EMBD)
    w.add_block_count(N_LAYER)
    w.add_feed_forward_length(N_FF)
    w.add_head_count(N_HEAD)
    w.add_head_count_kv(N_HEAD)
    w.add_rope_dimension_count(N_EMBD // N_HEAD)
    w.add_rope_freq_base(10000.0)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_vocab_size(n_vocab)
    w.add_file_type(0)  # all F32

    w.add_tokenizer_model("llama")
    w.add_token_list(pieces)
    w.add_token_scores(scores)
    w.add_token_types(types)
    w.add_bos_token_id(1)
    w.add_eos_token_id(4)  # <|im_end|> ends an assistant turn
    w.add_unk_token_id(0)
    w.add_pad_token_id(0)
    w.add_add_bos_token(False)
    w.add_add_eos_token(False)
    w.add_chat_template(CHATML)

    def normal(*shape, std):
        return (rng.standard_normal(shape) * std).astype(np.float32)

    # numpy shapes are GGML's ne reversed: (out_features, in_features).
    w.add_tensor("token_embd.weight", normal(n_vocab, N_EMBD, std=1.0))
    for i in range(N_LAYER):
        w.add_tensor(f"blk.{i}.attn_norm.weight", np.ones(N_EMBD, dtype=np.float32))
        w.add_tensor(f"blk.{i}.attn_q.weight", normal(N_EMBD, N_EMBD, std=N_EMBD ** -0.5))
        w.add_tensor(f"blk.{i}.attn_k.weight", normal(N_EMBD, N_EMBD, std=N_EMBD ** -0.5))
        w.add_tensor(f"blk.{i}.attn_v.weight", normal(N_EMBD, N_EMBD, std=N_EMBD ** -0.5))
        w.add_tensor(f"blk.{i}.attn_output.weight", normal(N_EMBD, N_EMBD, std=N_EMBD ** -0.5))
        w.add_tensor(f"blk.{i}.ffn_norm.weight", np.ones(N_EMBD, dtype=np.float32))
        w.add_tensor(f"blk.{i}.ffn_gate.weight", normal(N_FF, N_EMBD, std=N_EMBD ** -0.5))
        w.add_tensor(f"blk.{i}.ffn_up.weight", normal(N_FF, N_EMBD, std=N_EMBD ** -0.5))
        w.add_tensor(f"blk.{i}.ffn_down.weight", normal(N_EMBD, N_FF, std=N_FF ** -0.5))
    w.add_tensor("output_norm.weight", np.ones(N_EMBD, dtype=np.float32))
    output = np.zeros((n_vocab, N_EMBD), dtype=np.float32)
    output[word_ids] = normal(len(word_ids), N_EMBD, std=0.4)
    w.add_tensor("output.weight", output)

    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: make_tiny_llama.py OUT.gguf")
    main(sys.argv[1])
