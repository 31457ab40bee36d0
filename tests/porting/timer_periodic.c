/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * main (ANSI) with StringCchPrintfA: thread-pool timers.  A one-shot timer
 * with a relative due time, a periodic timer stopped from the program
 * after five ticks, a timer reset before it fires, and
 * WaitForThreadpoolTimerCallbacks with cancellation.
 */
#include <Windows.h>
#include <strsafe.h>

static void Print(const char *fmt, ...)
{
    char line[512];
    DWORD written;
    size_t len = 0;
    va_list ap;

    va_start(ap, fmt);
    StringCchVPrintfA(line, ARRAYSIZE(line), fmt, ap);
    va_end(ap);
    StringCchLengthA(line, ARRAYSIZE(line), &len);
    WriteFile(GetStdHandle(STD_OUTPUT_HANDLE), line, (DWORD)len, &written, NULL);
}

struct ticks {
    volatile LONG count;
    LONG stop_at;
    HANDLE done;
};

static VOID CALLBACK TimerCallback(PTP_CALLBACK_INSTANCE instance, PVOID context, PTP_TIMER timer)
{
    struct ticks *ticks = context;

    UNREFERENCED_PARAMETER(instance);
    UNREFERENCED_PARAMETER(timer);
    if (InterlockedIncrement(&ticks->count) == ticks->stop_at)
        SetEvent(ticks->done);
}

static void SetRelative(PTP_TIMER timer, LONGLONG ms, DWORD period_ms)
{
    ULARGE_INTEGER due;
    FILETIME ft;

    due.QuadPart = (ULONGLONG)(-ms * 10000);
    ft.dwLowDateTime = due.LowPart;
    ft.dwHighDateTime = due.HighPart;
    SetThreadpoolTimer(timer, &ft, period_ms, 0);
}

int main(void)
{
    struct ticks once = { 0, 1, CreateEventA(NULL, TRUE, FALSE, NULL) };
    struct ticks periodic = { 0, 5, CreateEventA(NULL, TRUE, FALSE, NULL) };
    struct ticks never = { 0, 1, CreateEventA(NULL, TRUE, FALSE, NULL) };
    PTP_TIMER t1, t2, t3;
    DWORD wait;

    t1 = CreateThreadpoolTimer(TimerCallback, &once, NULL);
    t2 = CreateThreadpoolTimer(TimerCallback, &periodic, NULL);
    t3 = CreateThreadpoolTimer(TimerCallback, &never, NULL);
    if (!t1 || !t2 || !t3) {
        Print("CreateThreadpoolTimer failed: %lu\n", GetLastError());
        return 1;
    }
    SetRelative(t1, 20, 0);
    SetRelative(t2, 10, 15);
    SetRelative(t3, 60000, 0);
    Print("timer set: %d\n", IsThreadpoolTimerSet(t3));
    SetThreadpoolTimer(t3, NULL, 0, 0);         /* cancelled before it fires */
    Print("timer set after cancel: %d\n", IsThreadpoolTimerSet(t3));

    wait = WaitForSingleObject(once.done, 10000);
    Print("one-shot: wait %lu, ticks %ld\n", wait, once.count);
    wait = WaitForSingleObject(periodic.done, 10000);
    SetThreadpoolTimer(t2, NULL, 0, 0);
    WaitForThreadpoolTimerCallbacks(t2, TRUE);
    Print("periodic: wait %lu, at least five ticks: %d\n", wait, periodic.count >= 5);
    Print("~ periodic ticks: %ld\n", periodic.count);
    Print("cancelled timer ticks: %ld\n", never.count);
    CloseThreadpoolTimer(t1);
    CloseThreadpoolTimer(t2);
    CloseThreadpoolTimer(t3);
    CloseHandle(once.done);
    CloseHandle(periodic.done);
    CloseHandle(never.done);
    Print("done\n");
    return 0;
}
