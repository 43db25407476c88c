/* The report's renderer on any JSON (a forged or buggy report data), and
 * the escaping every string from the evidence goes through: whatever the
 * input, no '<', '>', '"', '\'' or '&' that opens markup comes out. */
#include <string.h>
#include "cryo/output.h"
#include "cryo/report.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstr(data, size);
	char *e = cryo_html_escape(text);
	FUZZ_CHECK(e);
	FUZZ_CHECK(!strpbrk(e, "<>\"'`"));
	for (const char *p = strchr(e, '&'); p; p = strchr(p + 1, '&'))
		FUZZ_CHECK(!strncmp(p, "&amp;", 5) || !strncmp(p, "&lt;", 4) || !strncmp(p, "&gt;", 4) ||
			   !strncmp(p, "&quot;", 6) || !strncmp(p, "&#39;", 5) || !strncmp(p, "&#96;", 5) ||
			   !strncmp(p, "&#xfffd;", 8));
	free(e);
	cJSON *j = cryo_json_parse(text, size);
	if (j) {
		char *html = cryo_report_html(j);
		FUZZ_CHECK(html && strstr(html, "</html>"));
		FUZZ_CHECK(!strstr(html, "<script"));
		free(html);
		char *csv = cryo_report_iocs_csv(j);
		FUZZ_CHECK(csv);
		free(csv);
		cJSON_Delete(j);
	}
	free(text);
	return 0;
}
