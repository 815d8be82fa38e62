static inline __attribute__((always_inline)) void pmrun_point(const char *name) { extern void pmrun_point_(const char *) __attribute__((weak)); if (pmrun_point_) pmrun_point_(name); }
