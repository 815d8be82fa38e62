/* Prints the control block's layout as the C compiler sees it, for
 * TestLayout to compare with the Go mirror. */
#include <stddef.h>
#include <stdio.h>
#include "pmrun_ctl.h"

#define H(f) printf("hdr.%s %zu\n", #f, offsetof(struct pmrun_hdr, f))
#define S(f) printf("slot.%s %zu\n", #f, offsetof(struct pmrun_slot, f))

int main(void)
{
	H(magic); H(version); H(nslots); H(slot_size); H(next_slot); H(spin); H(closed);
	H(events); H(ctl_sleeping);
	printf("hdr.size %zu\n", sizeof(struct pmrun_hdr));
	S(turn); S(sleeping); S(reply); S(park); S(reply_arg); S(seq); S(op); S(flags);
	S(pid); S(tid); S(obj); S(obj2); S(arg); S(arg2); S(site); S(self); S(text);
	printf("slot.size %zu\n", sizeof(struct pmrun_slot));
	return 0;
}
