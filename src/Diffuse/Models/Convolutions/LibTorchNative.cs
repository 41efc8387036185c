using System.Runtime.InteropServices;
using TorchSharp;

namespace Diffuse.Models.Convolutions;

/// <summary>
/// The few libtorch settings TorchSharp 0.107 has no binding for, reached through the symbols
/// <c>libtorch_cpu.so</c> and <c>libc10.so</c> export: whether oneDNN (MKL-DNN) may run CPU convolutions
/// (<c>at::globalContext().setUserEnabledMkldnn</c>), and the C++ log level (<c>FLAGS_caffe2_log_level</c>), which
/// silences warnings such as "Could not initialize NNPACK! Reason: Unsupported hardware." that libtorch would otherwise
/// print on every convolution on some CPUs.
/// </summary>
internal static class LibTorchNative
{
    [DllImport("libtorch_cpu", EntryPoint = "_ZN2at13globalContextEv")]
    private static extern IntPtr GlobalContext();

    [DllImport("libtorch_cpu", EntryPoint = "_ZN2at7Context20setUserEnabledMkldnnEb")]
    private static extern void SetUserEnabledMkldnn(IntPtr context, [MarshalAs(UnmanagedType.U1)] bool enabled);

    [DllImport("libtorch_cpu", EntryPoint = "_ZNK2at7Context17userEnabledMkldnnEv")]
    [return: MarshalAs(UnmanagedType.U1)]
    private static extern bool UserEnabledMkldnn(IntPtr context);

    private static readonly object gate = new();
    private static bool quiet;

    /// <summary>Loads libtorch (through TorchSharp) so that the symbols below resolve against the same library.</summary>
    private static void EnsureLoaded() => torch.get_num_threads();

    /// <summary>Whether libtorch may use oneDNN for CPU convolutions (the process-wide switch; on by default, and taken
    /// as on where this libtorch does not export it).</summary>
    public static bool OneDnnEnabled
    {
        get
        {
            EnsureLoaded();
            try
            {
                return UserEnabledMkldnn(GlobalContext());
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
            {
                return true;
            }
        }
    }

    /// <summary>Switches oneDNN on or off for the process; false where this libtorch does not export the switch (a build
    /// for another platform, whose C++ names are mangled differently), which leaves it as it was (on).</summary>
    public static bool TrySetOneDnn(bool enabled)
    {
        EnsureLoaded();
        try
        {
            SetUserEnabledMkldnn(GlobalContext(), enabled);
            return true;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    /// <summary>
    /// Raises libtorch's C++ log level to errors only, once per process (warnings stay silent; errors still reach the
    /// exceptions TorchSharp raises). Where the symbol is missing (another libtorch build) nothing changes.
    /// </summary>
    public static void QuietWarnings()
    {
        lock (gate)
        {
            if (quiet) return;
            quiet = true;
            EnsureLoaded();
            const int error = 2; // c10's severities: INFO 0, WARNING 1, ERROR 2, FATAL 3
            foreach (var (library, symbol) in new[] { ("libc10", "FLAGS_caffe2_log_level"), ("libc10", "FLAGS_minloglevel") })
            {
                if (!TryExport(library, symbol, out var address)) continue;
                if (Marshal.ReadInt32(address) < error) Marshal.WriteInt32(address, error);
            }
        }
    }

    /// <summary>libtorch's C++ log level (<c>FLAGS_caffe2_log_level</c>: 0 info, 1 warnings, 2 errors), or null where the symbol is missing.</summary>
    public static int? LogLevel
    {
        get
        {
            EnsureLoaded();
            return TryExport("libc10", "FLAGS_caffe2_log_level", out var address) ? Marshal.ReadInt32(address) : null;
        }
    }

    private static bool TryExport(string library, string symbol, out IntPtr address)
    {
        address = IntPtr.Zero;
        foreach (var name in new[] { library, library + ".so" })
        {
            if (NativeLibrary.TryLoad(name, typeof(torch).Assembly, DllImportSearchPath.AssemblyDirectory | DllImportSearchPath.SafeDirectories, out var handle)
                && NativeLibrary.TryGetExport(handle, symbol, out address))
                return true;
        }
        return false;
    }
}
