using System.CommandLine;
using Diffuse.IO;
using TorchSharp;

namespace Diffuse.Cli;

/// <summary>
/// <c>--threads N</c> and <c>--device auto|cpu|cuda</c>: global options (every command takes them), applied to libtorch
/// before the command runs.
/// </summary>
public sealed class ComputeOptions
{
    public Option<int?> Threads { get; } = Opt.Parsed<int?>("--threads",
        $"libtorch's intra-op threads, 1 to {ComputeDevice.MaxThreads} (4 per logical core; default: libtorch's, one per core)", ParseThreads, helpName: "N");

    public Option<DeviceChoice?> Device { get; } = Opt.Parsed<DeviceChoice?>("--device",
        "auto | cpu | cuda (default: cpu; auto in a -p:TorchBackend=cuda build): auto takes CUDA when it is available, cuda without it is an error",
        Parse, helpName: "auto|cpu|cuda");

    public ComputeOptions()
    {
        Threads.Recursive = true;
        Device.Recursive = true;
    }

    static int? ParseThreads(string text)
    {
        if (!int.TryParse(text, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out int v))
            throw new UsageException($"--threads must be a whole number, got '{text}'");
        if (v < 1) throw new UsageException($"--threads must be at least 1, got {v}");
        if (v > ComputeDevice.MaxThreads)
            throw new UsageException($"--threads must be at most {ComputeDevice.MaxThreads} (4 per logical core; this machine has {Environment.ProcessorCount}), got {v}");
        return v;
    }

    static DeviceChoice? Parse(string text)
    {
        try
        {
            return Json.ParseEnum<DeviceChoice>(text, "device");
        }
        catch (DiffuseException e)
        {
            throw new UsageException($"--device must be auto, cpu or cuda, got '{text}' ({e.Message})");
        }
    }

    /// <summary>
    /// Sets libtorch's threads and default device. Without --device nothing changes on a CPU build (libtorch's default is
    /// the CPU); a CUDA build (TORCH_CUDA) takes auto. Returns the thread count to restore afterwards, if it changed.
    /// </summary>
    public int? Apply(ParseResult result)
    {
        int? previous = null;
        if (result.GetValue(Threads) is { } n)
        {
            previous = torch.get_num_threads();
            ComputeDevice.SetThreads(n);
        }
        var device = result.GetValue(Device);
#if TORCH_CUDA
        device ??= DeviceChoice.Auto;
#endif
        if (device is not { } choice) return previous;
        var resolved = ComputeDevice.Resolve(choice);
        // The CPU is libtorch's default already: leave it untouched, so that a CPU run is the same with and without --device.
        if (resolved != DeviceType.CPU) ComputeDevice.Use(resolved);
        return previous;
    }
}
