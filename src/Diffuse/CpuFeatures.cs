namespace Diffuse;

/// <summary>What the processor computes natively, for defaults that pay off only with it.</summary>
public static class CpuFeatures
{
    /// <summary>
    /// True when the CPU has bfloat16 arithmetic (x86 AVX-512 BF16 or AMX-BF16, read from /proc/cpuinfo on Linux): there
    /// bfloat16 training runs 1.6-1.8 times the images per second of float32 (docs/results.md); elsewhere libtorch emulates it
    /// and it is slower. False where the flags cannot be read.
    /// </summary>
    public static bool HasBFloat16 { get; } = Detect();

    static bool Detect()
    {
        try
        {
            return OperatingSystem.IsLinux() && File.Exists("/proc/cpuinfo") && HasBFloat16Flag(File.ReadLines("/proc/cpuinfo"));
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>Whether a /proc/cpuinfo listing's "flags" line names avx512_bf16 or amx_bf16.</summary>
    public static bool HasBFloat16Flag(IEnumerable<string> cpuinfo)
    {
        ArgumentNullException.ThrowIfNull(cpuinfo);
        foreach (var line in cpuinfo)
        {
            if (!line.StartsWith("flags", StringComparison.Ordinal)) continue;
            int colon = line.IndexOf(':');
            if (colon < 0) continue;
            var flags = line[(colon + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            return flags.Contains("avx512_bf16") || flags.Contains("amx_bf16");
        }
        return false;
    }
}
