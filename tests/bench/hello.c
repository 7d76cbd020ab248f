/*
 * hello-fcgi: the FastCGI baseline for `make bench`. The smallest libfcgi program that answers
 * every request with a short JSON body, so that nextid's figures can be read as ratios to what
 * the web server and FastCGI cost on the same machine in the same run.
 */
#include <fcgiapp.h>

int main(void)
{
	static const char answer[] = "Status: 200 OK\r\nContent-Type: application/json\r\n"
	                             "Content-Length: 15\r\n\r\n{\"hello\":true}\n";
	FCGX_Request request;

	FCGX_Init();
	FCGX_InitRequest(&request, 0, 0);
	while (FCGX_Accept_r(&request) >= 0) {
		FCGX_PutStr(answer, sizeof(answer) - 1, request.out);
		FCGX_Finish_r(&request);
	}
	return 0;
}
