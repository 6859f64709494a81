// The C++ side of tests/install-test.sh. symbols.h, made from the installed
// library's symbol table, has USE(NAME) for everything the library exports:
// each must be declared by the headers (or this does not compile) with C
// linkage (or it does not link, the C++ name being mangled).
#include <cstdio>
#include <cstring>

#include <rustyaudio/rustyaudio.h>

#define USE(name) reinterpret_cast<const void *>(&name),
static const void *const exported[] = {
#include "symbols.h"
};

int main()
{
	for (const void *symbol : exported)
		if (!symbol)
			return 1;
	std::printf("%s\n", ra_version());
	return 0;
}
