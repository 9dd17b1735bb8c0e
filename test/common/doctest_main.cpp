// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file The doctest main shared by every CPU test program.
//!
//! It fails a run in which the filters matched no test case. CTest runs each discovered test
//! case as `program --test-case=NAME`; a name CTest cannot carry intact (a ';' splits it into a
//! list) used to match nothing and still "pass", silently skipping the test. Listing, --count
//! and --help runs are not affected.
#define DOCTEST_CONFIG_IMPLEMENT
#include <cstdio>
#include <doctest/doctest.h>

namespace {

struct RunCount {
  bool ended = false;
  unsigned selected = 0;  // test cases that passed the filters
};
RunCount g_run;

//! A listener that only records how many test cases the filters selected.
class SelectedCounter : public doctest::IReporter {
public:
  explicit SelectedCounter(doctest::ContextOptions const&) {}
  void report_query(doctest::QueryData const&) override {}
  void test_run_start() override {}
  void test_run_end(doctest::TestRunStats const& stats) override {
    g_run.ended = true;
    g_run.selected = stats.numTestCasesPassingFilters;
  }
  void test_case_start(doctest::TestCaseData const&) override {}
  void test_case_reenter(doctest::TestCaseData const&) override {}
  void test_case_end(doctest::CurrentTestCaseStats const&) override {}
  void test_case_exception(doctest::TestCaseException const&) override {}
  void subcase_start(doctest::SubcaseSignature const&) override {}
  void subcase_end() override {}
  void log_assert(doctest::AssertData const&) override {}
  void log_message(doctest::MessageData const&) override {}
  void test_case_skipped(doctest::TestCaseData const&) override {}
};
REGISTER_LISTENER("spikequant_selected_counter", 1, SelectedCounter);

}  // namespace

int main(int argc, char** argv) {
  doctest::Context context(argc, argv);
  int const rc = context.run();
  if (context.shouldExit()) {
    return rc;  // --list-test-cases, --count, --help, --version
  }
  if (rc == 0 && g_run.ended && g_run.selected == 0) {
    std::fprintf(
        stderr,
        "doctest: the filters matched no test case: nothing ran (a ';' in a TEST_CASE name "
        "splits it in CTest; use ',')\n");
    return 1;
  }
  return rc;
}
