/* report.c: the escaping every evidence string goes through, the CSV of
 * indicators, and the page's guarantees on hostile data. */
#include <string.h>
#include <cjson/cJSON.h>
#include "check.h"
#include "cryo/cleanup.h"
#include "cryo/output.h"
#include "cryo/report.h"

static void test_html_escape(void)
{
	cleanup_free char *a = cryo_html_escape("\"><img src=x onerror=alert(1)>&'`\x01");
	CHECK_STR_EQ(a, "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;&amp;&#39;&#96;&#xfffd;");
	cleanup_free char *b = cryo_html_escape("caf\xc3\xa9 /tmp/x");
	CHECK_STR_EQ(b, "caf\xc3\xa9 /tmp/x");
}

static void test_page_on_hostile_data(void)
{
	const char *json = "{\"case\":{\"case_id\":\"</title><script>x()</script>\"},"
			   "\"verification\":{\"verified\":false,\"error\":\"<b>bad</b>\"},"
			   "\"processes\":[{\"pid\":7,\"ppid\":1,\"name\":\"<svg onload=x()>\",\"exe\":\"/tmp/\\\"q\",\"suspicious\":true,"
			   "\"flags\":[\"<i>\"],\"cmdline\":[\"a\",\"<script>\"]}],"
			   "\"iocs\":[{\"type\":\"path\",\"value\":\"/tmp/a\\\"b,c\",\"context\":\"x\\ny\"}]}";
	cleanup_cjson cJSON *d = cJSON_Parse(json);
	CHECK(d != NULL);
	cleanup_free char *html = cryo_report_html(d);
	CHECK(html != NULL);
	CHECK(strstr(html, "<script") == NULL);
	CHECK(strstr(html, "<svg onload") == NULL);
	CHECK(strstr(html, "<b>bad") == NULL);
	CHECK(strstr(html, "NOT VERIFIED") != NULL);
	CHECK(strstr(html, "&lt;svg onload=x()&gt;") != NULL);
	CHECK(strstr(html, "default-src 'none'") != NULL);
	cleanup_free char *csv = cryo_report_iocs_csv(d);
	CHECK_STR_EQ(csv, "type,value,context\n\"path\",\"/tmp/a\"\"b,c\",\"x y\"\n");
}

static const struct check_test tests[] = {
	CHECK_TEST(html_escape),
	CHECK_TEST(page_on_hostile_data),
};

CHECK_MAIN(tests)
