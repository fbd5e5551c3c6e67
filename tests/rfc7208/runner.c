#include "../unit/t.h"
int main(void) { return t_done(); }
