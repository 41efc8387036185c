using System.Globalization;
using Diffuse.IO;
using TorchSharp;

namespace Diffuse.Cli;

/// <summary>
/// <c>--threads N</c> and <c>--device auto|cpu|cuda</c>, which every command takes: they are taken out of the
/// arguments before the command parses the rest, and applied to libtorch before it runs.
/// </summary>
public static class ComputeOptions
{
    public const string Help = """
          --threads N          libtorch's intra-op threads (default: libtorch's, one per core)
          --device D           auto | cpu | cuda (default: cpu; auto in a -p:TorchBackend=cuda build): auto takes CUDA when
                               it is available, cuda without it is an error
        """;

    /// <summary>The arguments without --threads and --device, and the values given for them.</summary>
    public static (string[] Arguments, int? Threads, DeviceChoice? Device) Extract(IReadOnlyList<string> argv)
    {
        var rest = new List<string>();
        string? threads = null, device = null;
        for (int i = 0; i < argv.Count; i++)
        {
            string token = argv[i];
            string? name = token switch
            {
                "--threads" or "--device" => token[2..],
                _ when token.StartsWith("--threads=", StringComparison.Ordinal) || token.StartsWith("--device=", StringComparison.Ordinal) => token[2..token.IndexOf('=')],
                _ => null,
            };
            if (name is null) { rest.Add(token); continue; }
            string value = token.Contains('=') ? token[(token.IndexOf('=') + 1)..]
                : i + 1 < argv.Count ? argv[++i] : throw new UsageException($"option --{name} needs a value");
            if ((name == "threads" ? threads : device) is not null) throw new UsageException($"option --{name} is given twice");
            if (name == "threads") threads = value; else device = value;
        }
        int? n = null;
        if (threads is not null)
        {
            if (!int.TryParse(threads, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v))
                throw new UsageException($"--threads must be a whole number, got '{threads}'");
            if (v < 1) throw new UsageException($"--threads must be at least 1, got {v}");
            if (v > ComputeDevice.MaxThreads)
                throw new UsageException($"--threads must be at most {ComputeDevice.MaxThreads} (4 per logical core; this machine has {Environment.ProcessorCount}), got {v}");
            n = v;
        }
        DeviceChoice? d = null;
        if (device is not null)
        {
            try
            {
                d = Json.ParseEnum<DeviceChoice>(device, "device");
            }
            catch (DiffuseException e)
            {
                throw new UsageException($"--device must be auto, cpu or cuda, got '{device}' ({e.Message})");
            }
        }
        return ([.. rest], n, d);
    }

    /// <summary>
    /// Sets libtorch's threads and default device. Without --device nothing changes on a CPU build (libtorch's default is
    /// the CPU); a CUDA build (TORCH_CUDA) takes auto.
    /// </summary>
    public static void Apply(int? threads, DeviceChoice? device)
    {
        if (threads is { } n) ComputeDevice.SetThreads(n);
#if TORCH_CUDA
        device ??= DeviceChoice.Auto;
#endif
        if (device is not { } choice) return;
        var resolved = ComputeDevice.Resolve(choice);
        // The CPU is libtorch's default already: leave it untouched, so that a CPU run is the same with and without --device.
        if (resolved != DeviceType.CPU) ComputeDevice.Use(resolved);
    }
}
