// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file The `spikequant` binary run as a user runs it: tokenize, generate, eval --json, and
//! bad input (each must exit non-zero with exactly one "spikequant: error:" line, no crash).
#include "common/models.hpp"
#include "spikequant/io/tokenizer.hpp"
#include "spikequant/version.hpp"
#include "tools/cli_runner.hpp"

#include <cmath>
#include <cstdlib>
#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace fs = std::filesystem;
using namespace spikequant_test::cli;

namespace {

fs::path write_file(std::string const& name, std::string const& content) {
  fs::path const p = temp_dir() / name;
  std::ofstream(p, std::ios::binary) << content;
  return p;
}

fs::path stories() {
  return spikequant_test::data_dir() / "models" / "stories260K";
}
fs::path tinystories() {
  return spikequant_test::data_dir() / "text" / "tinystories_val.txt";
}

}  // namespace

TEST_CASE("tokenize prints BOS then the tokenizer's ids") {
  REQUIRE(fs::exists(stories() / "tok512.bin"));
  auto const r = run("tokenize --text 'Once upon a time'");
  CHECK(r.rc == 0);
  CHECK(r.err.empty());
  auto const tok = spikequant::io::load_tokenizer(stories() / "tok512.bin");
  auto const ids = tok.encode("Once upon a time", true, false);
  std::string want;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (i > 0) {
      want += ' ';
    }
    want += std::to_string(ids[i]);
  }
  CHECK(r.out == want + "\n");
  CHECK(r.out.rfind("1 ", 0) == 0);
  // The ids decode back to the text.
  std::string text;
  for (std::size_t i = 1; i < ids.size(); ++i) {
    text += tok.decode(ids[i - 1], ids[i]);
  }
  CHECK(text == "Once upon a time");
}

TEST_CASE("generate with no arguments: greedy stories260K text (llama2.c's output)") {
  auto const r = run("generate --steps 40");
  CHECK(r.rc == 0);
  CHECK(r.err.empty());
  CHECK(r.out.rfind("Once upon a time, there was a little girl named Lily.", 0) == 0);
  auto const p = run("generate --steps 40 --prompt 'Once upon a time' --scheme w8a8-per-token");
  CHECK(p.rc == 0);
  CHECK(p.out.rfind("Once upon a time, there was", 0) == 0);
  auto const s1 = run("generate --steps 30 --temperature 1 --seed 3");
  auto const s2 = run("generate --steps 30 --temperature 1 --seed 3");
  CHECK(s1.rc == 0);
  CHECK(s1.out == s2.out);
}

TEST_CASE("generate accepts --bmm (greedy text still starts right) and rejects bad values") {
  auto const plain = run("generate --steps 60 --scheme w8a8-per-tensor");
  auto const bmm = run("generate --steps 60 --scheme w8a8-per-tensor --bmm per-tensor");
  REQUIRE(plain.rc == 0);
  REQUIRE(bmm.rc == 0);
  CHECK(bmm.out.rfind("Once upon a time", 0) == 0);
  auto const bad = run("generate --steps 5 --bmm static");
  CHECK(bad.rc == 2);
  CHECK(bad.err.find("--bmm") != std::string::npos);
}

TEST_CASE("runs past the model's 512 trained positions warn once on stderr and still run") {
  auto const g = run("generate --steps 520");
  CHECK(g.rc == 0);
  CHECK(
      g.err.find("warning: --steps 520 needs 520 positions, more than the 512") !=
      std::string::npos);
  std::string const text = quote(tinystories().string());
  auto const e = run("eval --text " + text + " --max-tokens 600 --seq-len 600 --json");
  CHECK(e.rc == 0);
  CHECK(e.err.find("warning: --seq-len 600") != std::string::npos);
  CHECK(nlohmann::json::parse(e.out).at("windows") == 2);  // 600 tokens in chunks of 599
  // At the limit: no warning.
  auto const ok = run("eval --text " + text + " --max-tokens 600 --seq-len 512 --json");
  CHECK(ok.rc == 0);
  CHECK(ok.err.find("warning") == std::string::npos);
}

TEST_CASE("eval --json: fp32 and W8A8 perplexities of TinyStories are sane") {
  std::string const text = quote(tinystories().string());
  auto const fp = run("eval --text " + text + " --max-tokens 4000 --json");
  REQUIRE(fp.rc == 0);
  auto const j = nlohmann::json::parse(fp.out);
  CHECK(j.at("scheme") == "fp32");
  CHECK(j.at("tokens") == 4000);
  CHECK(j.at("windows") == 16);  // ceil(4000 / 255)
  double const ppl = j.at("ppl").get<double>();
  // Measured 4.45 here (seq-len 256, 4000 tokens; the model's author reports ~3.66 on
  // full-length sequences); a broken forward gives hundreds (vocab 512).
  CHECK(ppl > 3.0);
  CHECK(ppl < 6.5);
  CHECK(std::exp(j.at("nll").get<double>()) == doctest::Approx(ppl));

  for (std::string const scheme : {"w8a8-per-token", "w8a8-per-tensor"}) {
    auto const q = run("eval --text " + text + " --max-tokens 4000 --json --scheme " + scheme);
    REQUIRE(q.rc == 0);
    auto const jq = nlohmann::json::parse(q.out);
    CHECK(jq.at("scheme") == scheme);
    CHECK(jq.at("ppl").get<double>() > ppl * 0.98);
    CHECK(jq.at("ppl").get<double>() < ppl * 1.2);
  }
  auto const st =
      run("eval --text " + text + " --max-tokens 2000 --json --scheme w8a8-static --calib " + text +
          " --calib-samples 4");
  REQUIRE(st.rc == 0);
  auto const js = nlohmann::json::parse(st.out);
  CHECK(js.at("calib_windows") == 4);
  CHECK(js.at("ppl").get<double>() > 3.0);
  CHECK(js.at("ppl").get<double>() < 8.0);

  // A tokens file gives the same result as the text it came from.
  auto const tok = spikequant::io::load_tokenizer(stories() / "tok512.bin");
  auto const ids =
      tok.encode("Lily and Tom went to the park. They played with a red ball.", false, false);
  std::string list;
  for (int id : ids) {
    list += std::to_string(id) + "\n";
  }
  auto const tf = write_file("story.tokens", list);
  auto const txt =
      write_file("story.txt", "Lily and Tom went to the park. They played with a red ball.");
  auto const a = run("eval --tokens " + quote(tf.string()) + " --json");
  auto const b = run("eval --text " + quote(txt.string()) + " --json");
  REQUIRE(a.rc == 0);
  REQUIRE(b.rc == 0);
  CHECK(nlohmann::json::parse(a.out).at("nll") == nlohmann::json::parse(b.out).at("nll"));
}

TEST_CASE("--scheme takes every spelling of parse_act_scheme, with the same result") {
  std::string const base =
      "eval --text " + quote(tinystories().string()) + " --max-tokens 600 --json --scheme ";
  auto const full = run(base + "w8a8-per-tensor");
  REQUIRE(full.rc == 0);
  double const nll = nlohmann::json::parse(full.out).at("nll").get<double>();
  for (std::string const name : {"aq2", "AQ2", "per-tensor"}) {
    CAPTURE(name);
    auto const r = run(base + name);
    REQUIRE(r.rc == 0);
    auto const j = nlohmann::json::parse(r.out);
    CHECK(j.at("scheme") == name);  // recorded as typed
    CHECK(j.at("nll").get<double>() == nll);
  }
}

TEST_CASE("eval --bmm: BMM quantization of q/k/v changes the perplexity and is recorded") {
  std::string const base =
      "eval --text " + quote(tinystories().string()) + " --max-tokens 1024 --seq-len 64 --json";
  auto ppl_of = [&](std::string const& extra, std::string const& bmm) {
    auto const r = run(base + extra);
    INFO("spikequant " << base << extra << "\nstderr: " << r.err);
    REQUIRE(r.rc == 0);
    auto const j = nlohmann::json::parse(r.out);
    CHECK(j.at("bmm") == bmm);
    return j.at("ppl").get<double>();
  };
  double const off = ppl_of(" --scheme w8a8-per-tensor", "off");
  CHECK(ppl_of(" --scheme w8a8-per-tensor --bmm off", "off") == off);
  double const tensor = ppl_of(" --scheme w8a8-per-tensor --bmm per-tensor", "per-tensor");
  double const token = ppl_of(" --scheme w8a8-per-tensor --bmm per-token", "per-token");
  MESSAGE("w8a8-per-tensor ppl: bmm off ", off, ", per-tensor ", tensor, ", per-token ", token);
  CHECK(tensor != off);
  CHECK(token != off);
  CHECK(tensor != token);
  CHECK(std::abs(tensor - off) < 0.1 * off);  // still the same model
  // Independent of the scheme: fp32 modules with quantized attention products.
  double const fp = ppl_of("", "off");
  CHECK(ppl_of(" --bmm per-tensor", "per-tensor") != fp);
}

TEST_CASE("bad input: one-line errors and non-zero exits, never a crash") {
  std::string const text = quote(tinystories().string());
  SUBCASE("out-of-range token id in a tokens file") {
    auto const f = write_file("bad.tokens", "1 5 9 777 3\n");
    check_one_line_error(run("eval --tokens " + quote(f.string())), 1, "777");
  }
  SUBCASE("negative token id") {
    auto const f = write_file("neg.tokens", "5 -2 3\n");
    check_one_line_error(run("eval --tokens " + quote(f.string())), 1, "-2");
  }
  SUBCASE("garbage in a tokens file") {
    auto const f = write_file("garbage.tokens", "5 six 3\n");
    check_one_line_error(run("eval --tokens " + quote(f.string())), 1, "six");
  }
  SUBCASE("empty text file") {
    auto const f = write_file("empty.txt", "");
    check_one_line_error(run("eval --text " + quote(f.string())), 1, "empty");
  }
  SUBCASE("--seq-len 1") {
    check_one_line_error(run("eval --text " + text + " --seq-len 1"), 2, "--seq-len");
  }
  SUBCASE("--seq-len not a number") {
    check_one_line_error(run("eval --text " + text + " --seq-len 12x"), 2, "12x");
  }
  SUBCASE("missing model file") {
    check_one_line_error(
        run("eval --text " + text + " --model /nonexistent/model.bin"),
        1,
        "/nonexistent/model.bin");
  }
  SUBCASE("truncated model file") {
    std::string const full = slurp(stories() / "stories260K.bin");
    REQUIRE(full.size() > 1000);
    fs::path const dir = temp_dir() / "trunc";
    fs::create_directories(dir);
    std::ofstream(dir / "model.bin", std::ios::binary) << full.substr(0, full.size() / 2);
    auto const r =
        run("eval --text " + text + " --model " + quote((dir / "model.bin").string()) +
            " --tokenizer " + quote((stories() / "tok512.bin").string()));
    check_one_line_error(r, 1, "model.bin");
  }
  SUBCASE("random bytes as a model") {
    auto const f = write_file("random.bin", std::string(4096, '\x7f'));
    check_one_line_error(
        run("generate --model " + quote(f.string()) + " --tokenizer " +
            quote((stories() / "tok512.bin").string())),
        1,
        "random.bin");
  }
  SUBCASE("w8a8-static without --calib") {
    check_one_line_error(run("eval --text " + text + " --scheme w8a8-static"), 2, "--calib");
  }
  SUBCASE("unknown scheme, option, command; missing input") {
    check_one_line_error(run("eval --text " + text + " --scheme int4"), 2, "int4");
    check_one_line_error(run("eval --text " + text + " --bmm static"), 2, "--bmm");
    check_one_line_error(run("eval --text " + text + " --bogus 3"), 2, "--bogus");
    check_one_line_error(run("frobnicate"), 2, "frobnicate");
    // Close misspellings get a suggestion; far-off words do not.
    check_one_line_error(
        run("evl --text " + text), 2, "unknown command 'evl' (did you mean 'eval'?)");
    check_one_line_error(run("generate --temprature 0"), 2, "(did you mean '--temperature'?)");
    CHECK(run("frobnicate").err.find("did you mean") == std::string::npos);
    check_one_line_error(run("eval"), 2, "--text");
    check_one_line_error(run("eval --text"), 2, "--text");
  }
  SUBCASE("missing text file") {
    check_one_line_error(run("eval --text /nonexistent/story.txt"), 1, "/nonexistent/story.txt");
  }
}

TEST_CASE("--version prints the library version") {
  std::string const want = "spikequant " + std::to_string(SPIKEQUANT_VERSION_MAJOR) + "." +
                           std::to_string(SPIKEQUANT_VERSION_MINOR) + "." +
                           std::to_string(SPIKEQUANT_VERSION_PATCH) + "\n";
  for (char const* flag : {"--version", "-V", "version"}) {
    auto const r = run(flag);
    CHECK(r.rc == 0);
    CHECK(r.out == want);
    CHECK(r.err.empty());
  }
}

TEST_CASE("--help for every subcommand") {
  // The commands main.cpp registers (its header comment lists the same five): each has a
  // usage text and is listed, in this order, by the top-level --help.
  auto const top = run("--help");
  CHECK(top.rc == 0);
  std::size_t last = 0;
  for (std::string const cmd : {"tokenize", "generate", "eval", "calibrate", "report"}) {
    CAPTURE(cmd);
    auto const r = run(cmd + " --help");
    CHECK(r.rc == 0);
    CHECK(r.out.find("usage: spikequant " + cmd) != std::string::npos);
    std::size_t const at = top.out.find("\n  " + cmd + " ");
    REQUIRE(at != std::string::npos);
    CHECK(at > last);
    last = at;
  }
  // eval's calibration flags are part of eval itself, not an optional extension.
  auto const eval = run("eval --help");
  for (std::string const flag : {"--qfem", "--qfep", "--smoothquant", "--recipe"}) {
    CHECK(eval.out.find(flag) != std::string::npos);
  }
}

TEST_CASE(
    "a Llama .gguf file is a --model and its own tokenizer (SmolLM2-135M)" *
    doctest::test_suite("slow")) {
  auto const gguf = spikequant_test::existing_or_skip(
      spikequant_test::smollm2_gguf(), "scripts/download-models.sh");
  if (gguf.empty()) {
    return;
  }
  // transformers' AutoTokenizer on the same file gives these ids (each digit alone).
  auto const t =
      run("tokenize --no-bos --text 'Hello world 12345 ' --tokenizer " + quote(gguf.string()));
  CHECK(t.rc == 0);
  CHECK(t.out == "19556 905 216 33 34 35 36 37 216\n");
  std::ifstream ppl_ref(fs::path(gguf.string() + ".ref") / "ppl.txt");
  if (!ppl_ref.is_open()) {
    MESSAGE("skipped eval: no transformers references (run scripts/make_gguf_llama_refs.py)");
    return;
  }
  std::int64_t max_tokens = 0;
  int seq_len = 0;
  double want = 0.0;
  ppl_ref >> max_tokens >> seq_len >> want;
  auto const e =
      run("eval --json --model " + quote(gguf.string()) + " --text " +
          quote((spikequant_test::data_dir() / "text" / "wikitext2_test.raw").string()) +
          " --seq-len " + std::to_string(seq_len) + " --max-tokens " + std::to_string(max_tokens));
  REQUIRE(e.rc == 0);
  auto const j = nlohmann::json::parse(e.out);
  CHECK(j.at("tokens").get<std::int64_t>() == max_tokens);
  double const ppl = j.at("ppl").get<double>();
  MESSAGE("spikequant eval: fp32 ppl ", ppl, ", transformers ", want);
  CHECK(std::abs(ppl - want) / want <= 1e-4);
}
