/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Linux: GetSystemInfo, which programs use to size their work for the
 * thread pool.  Reads sysconf; takes no lock.
 */
#include "os_linux.h"

#include <string.h>
#include <unistd.h>

/***********************************************************************
 *           GetSystemInfo   (kernel32_tp.@)
 *
 * The processor count is the number online, as the pool sees it.
 */
VOID WINAPI GetSystemInfo(LPSYSTEM_INFO info)
{
    long page = sysconf(_SC_PAGESIZE);
    unsigned int cpus = os_cpu_count();

    memset(info, 0, sizeof(*info));
    info->wProcessorArchitecture = PROCESSOR_ARCHITECTURE_AMD64;
    info->dwPageSize = page > 0 ? (DWORD)page : 4096;
    info->lpMinimumApplicationAddress = (LPVOID)0x10000;
    info->lpMaximumApplicationAddress = (LPVOID)0x7ffffffeffffull;
    info->dwActiveProcessorMask = cpus >= 64 ? ~(DWORD_PTR)0 : ((DWORD_PTR)1 << cpus) - 1;
    info->dwNumberOfProcessors = cpus;
    info->dwProcessorType = PROCESSOR_AMD_X8664;
    info->dwAllocationGranularity = 65536;
}
