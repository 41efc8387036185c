using Diffuse.Configuration;
using System.Diagnostics;
using System.Globalization;
using Diffuse.Models;
using Diffuse.Models.Convolutions;
using TorchSharp;
using static TorchSharp.torch;

namespace Diffuse.Bench;

/// <summary>
/// Speed-ups measured as ratios within one run on a busy machine: the variants take turns (A, B, A, B, ...) and each
/// is timed by its own sum, so that load that comes and goes falls on both alike.
/// <code>
/// train-precision [presets] [batch] [steps]   training images/s, fp32 against --precision bf16
/// layout [presets] [batch] [repeats]          U-Net forward ms, NCHW against channels-last, fp32 and bf16
/// conv-routes [presets] [batch] [steps]       training images/s and sampling forward ms on each convolution route
/// route-samples MODEL [n] [steps] [seed]      a trained model's samples on each route against the oneDNN-off ones
/// </code>
/// </summary>
public static class InterleavedBench
{
    public static int TrainPrecision(string[] args)
    {
        var presets = (args.Length > 0 ? args[0] : "tiny").Split(',');
        int batch = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 64;
        int steps = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 4;
        Console.WriteLine($"threads {get_num_threads()}, batch {batch}, {steps} timed steps each, alternating, after one warm-up step each");
        Console.WriteLine("| preset | fp32 train images/s | bf16 train images/s | bf16 / fp32 |");
        Console.WriteLine("|---|---:|---:|---:|");
        foreach (var preset in presets)
        {
            var config = UNetConfig.Preset(preset);
            using var fp32 = new UNetThroughput.TrainingBench(config, batch, TrainingPrecision.Fp32);
            using var bf16 = new UNetThroughput.TrainingBench(config, batch, TrainingPrecision.Bf16);
            var (a, b) = Alternate(() => fp32.Step(), () => bf16.Step(), steps);
            Console.WriteLine($"| {preset} | {steps * batch / a:F1} | {steps * batch / b:F1} | {a / b:F2}x |");
        }
        return 0;
    }

    public static int Layout(string[] args)
    {
        var presets = (args.Length > 0 ? args[0] : "tiny").Split(',');
        int batch = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 64;
        int repeats = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 5;
        Console.WriteLine($"threads {get_num_threads()}, batch {batch}, {repeats} timed forwards each, alternating, eval mode, no_grad");
        Console.WriteLine("| preset | precision | NCHW ms | channels-last ms | NCHW / channels-last | output channels-last |");
        Console.WriteLine("|---|---|---:|---:|---:|---|");
        foreach (var preset in presets)
            foreach (var dtype in new[] { ScalarType.Float32, ScalarType.BFloat16 })
            {
                var config = UNetConfig.Preset(preset);
                using var scope = NewDisposeScope();
                using var g = new Generator(0);
                using var nchw = new UNet2D(config);
                using var nhwc = new UNet2D(config);
                nchw.ResetParameters(g);
                nchw.eval();
                nhwc.eval();
                nchw.to(dtype);
                nhwc.to(dtype);
                using var _ = no_grad();
                foreach (var (name, p) in nchw.named_parameters()) nhwc.get_parameter(name)!.copy_(p);
                // TorchSharp 0.107 has no contiguous(memory_format): a permute to NHWC, made contiguous and permuted back,
                // gives the channels-last strides libtorch's oneDNN convolutions detect.
                foreach (var p in nhwc.parameters().Where(p => p.dim() == 4)) p.set_(ChannelsLast(p));
                var x = randn([batch, config.InChannels, config.ImageSize, config.ImageSize], generator: g).to(dtype);
                var xl = ChannelsLast(x);
                var t = full([batch], 500L, ScalarType.Int64);
                bool outputChannelsLast = false;
                var (a, b) = Alternate(() => { using var y = nchw.forward(x, t); },
                    () => { using var y = nhwc.forward(xl, t); outputChannelsLast = y.stride(1) == 1; }, repeats);
                using (var y1 = nchw.forward(x, t))
                using (var y2 = nhwc.forward(xl, t))
                    if ((y1 - y2).abs().max().to(ScalarType.Float32).item<float>() > (dtype == ScalarType.Float32 ? 1e-3f : 0.1f)) throw new DiffuseException("the channels-last network computes another function");
                Console.WriteLine($"| {preset} | {(dtype == ScalarType.Float32 ? "fp32" : "bf16")} | {a / repeats * 1e3:F1} | {b / repeats * 1e3:F1} | {a / b:F2}x | {(outputChannelsLast ? "yes" : "no")} |");
            }
        return 0;
    }

    /// <summary>
    /// The cost of each convolution route (<see cref="ConvolutionRoute"/>): training images/s (Trainer steps, fp32 and
    /// --precision bf16) and the no-grad forward of sampling, the routes taking turns step by step on the same network.
    /// Routes are forced (no self-check): on a CPU where oneDNN is wrong its figures are those of the wrong path.
    /// </summary>
    public static int ConvRoutes(string[] args)
    {
        var presets = (args.Length > 0 ? args[0] : "tiny").Split(',');
        int batch = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 64;
        int steps = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 4;
        var routes = new[] { ConvolutionRoute.OneDnn, ConvolutionRoute.PaddedChannels, ConvolutionRoute.OneDnnOff };
        Console.WriteLine($"threads {get_num_threads()}, batch {batch}, {steps} timed steps each, routes taking turns, after one warm-up step each");
        Console.WriteLine($"self-check on this machine: {Convolution.Describe()}");
        Console.WriteLine("| preset | precision | measure | oneDNN | padded channels | oneDNN off | padded / oneDNN | off / oneDNN |");
        Console.WriteLine("|---|---|---|---:|---:|---:|---:|---:|");
        try
        {
            foreach (var preset in presets)
                foreach (var precision in new[] { TrainingPrecision.Fp32, TrainingPrecision.Bf16 })
                {
                    var config = UNetConfig.Preset(preset);
                    string name = precision == TrainingPrecision.Bf16 ? "bf16" : "fp32";
                    using (var bench = new UNetThroughput.TrainingBench(config, batch, precision))
                    {
                        var seconds = AlternateRoutes(routes, () => bench.Step(), steps);
                        Console.WriteLine($"| {preset} | {name} | train images/s | {string.Join(" | ", seconds.Select(t => (steps * batch / t).ToString("F1", CultureInfo.InvariantCulture)))} | " +
                            $"{seconds[0] / seconds[1]:F2}x | {seconds[0] / seconds[2]:F2}x |");
                    }
                    using var scope = NewDisposeScope();
                    using var g = new Generator(0);
                    using var model = new UNet2D(config);
                    model.ResetParameters(g);
                    model.eval();
                    var dtype = precision == TrainingPrecision.Bf16 ? ScalarType.BFloat16 : ScalarType.Float32;
                    model.to(dtype);
                    var x = randn([batch, config.InChannels, config.ImageSize, config.ImageSize], generator: g).to(dtype);
                    var t = full([batch], 500L, ScalarType.Int64);
                    var forward = AlternateRoutes(routes, () => { using var _ = no_grad(); using var y = model.forward(x, t); }, steps);
                    Console.WriteLine($"| {preset} | {name} | sampling forward ms | {string.Join(" | ", forward.Select(f => (f / steps * 1e3).ToString("F1", CultureInfo.InvariantCulture)))} | " +
                        $"{forward[1] / forward[0]:F2}x time | {forward[2] / forward[0]:F2}x time |");
                }
        }
        finally
        {
            Convolution.Force(null);
        }
        return 0;
    }

    /// <summary>
    /// The samples of a trained image model (DDIM, fp32 and bf16, one seed) on each convolution route, in grey levels
    /// (0-255) against those of the oneDNN-off route (libtorch's own convolutions): the mean and largest absolute pixel
    /// difference. The self-checked route must match to rounding; on a CPU where oneDNN is wrong, its row shows how far.
    /// </summary>
    public static int RouteSamples(string[] args)
    {
        string directory = args[0];
        int n = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 16;
        int steps = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 20;
        ulong seed = args.Length > 3 ? ulong.Parse(args[3], CultureInfo.InvariantCulture) : 1;
        Console.WriteLine($"threads {get_num_threads()}, {n} images, DDIM {steps} steps, seed {seed}; self-check: {Convolution.Describe()}");
        Console.WriteLine("| precision | route | mean grey-level difference to oneDNN off | largest |");
        Console.WriteLine("|---|---|---:|---:|");
        try
        {
            foreach (bool bf16 in new[] { false, true })
            {
                Tensor Draw(ConvolutionRoute route)
                {
                    Convolution.Force(route);
                    using var model = Pipelines.ImageModel.Load(directory);
                    if (bf16) model.UseBFloat16();
                    var scheduler = model.CreateScheduler("ddim");
                    using var g = new Generator(seed);
                    using var images = model.Sample(n, scheduler, steps, g);
                    return IO.PixelScale.ToBytes(images).to(ScalarType.Float32);
                }
                using var reference = Draw(ConvolutionRoute.OneDnnOff);
                foreach (var route in new[] { ConvolutionRoute.OneDnn, ConvolutionRoute.PaddedChannels })
                {
                    using var pixels = Draw(route);
                    using var difference = (pixels - reference).abs();
                    Console.WriteLine($"| {(bf16 ? "bf16" : "fp32")} | {route} | {difference.mean().item<float>():F3} | {difference.max().item<float>():F0} |");
                }
            }
        }
        finally
        {
            Convolution.Force(null);
        }
        return 0;
    }

    /// <summary>One warm-up call on each route, then <paramref name="n"/> turns; the total seconds on each route.</summary>
    static double[] AlternateRoutes(ConvolutionRoute[] routes, Action body, int n)
    {
        foreach (var route in routes)
        {
            Convolution.Force(route);
            body();
        }
        var seconds = new double[routes.Length];
        for (int i = 0; i < n; i++)
            for (int r = 0; r < routes.Length; r++)
            {
                Convolution.Force(routes[r]);
                var clock = Stopwatch.StartNew();
                body();
                seconds[r] += clock.Elapsed.TotalSeconds;
            }
        return seconds;
    }

    static Tensor ChannelsLast(Tensor x) => x.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2);

    /// <summary>
    /// The cost of per-sample generators: <c>seed-cost [batch] [steps] [repeats] [samplers] [points]</c> samples a random
    /// tiny U-Net (28×28, one channel) on a batch of images and a random default MLP on 2-D points with each sampler,
    /// drawing from one shared generator and from one generator per sample in turns, then times the draws alone (where
    /// the two differ). Each figure is the fastest of its turns, which a busy machine disturbs least.
    /// </summary>
    public static int SeedCost(string[] args)
    {
        int batch = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 64;
        int steps = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 20;
        int repeats = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 3;
        var samplers = (args.Length > 3 ? args[3] : "ddim,ddpm").Split(',');
        int points = args.Length > 4 ? int.Parse(args[4], CultureInfo.InvariantCulture) : 10_000;
        var config = UNetConfig.Tiny;
        using var g = new Generator(0);
        using var unet = new UNet2D(config);
        unet.ResetParameters(g);
        unet.eval();
        using var mlp = new MlpDenoiser(new MlpConfig());
        mlp.eval();
        long[] images = [batch, config.InChannels, config.ImageSize, config.ImageSize], pointShape = [points, 2];
        Console.WriteLine($"threads {get_num_threads()}, {steps} steps, the fastest of {repeats} runs each, alternating, after one warm-up run each");
        Console.WriteLine("| run | shared generator s | per-sample generators s | per-sample / shared |");
        Console.WriteLine("|---|---:|---:|---:|");
        foreach (var name in samplers)
        {
            var scheduler = Sampling.Schedulers.Create(name, new SchedulerConfig());
            foreach (var (label, model, shape) in new (string, Func<Tensor, Tensor, Tensor>, long[])[]
                     { ($"{batch} images, tiny U-Net", unet.forward, images), ($"{points} 2-D points, MLP", mlp.forward, pointShape) })
            {
                void Run(Process.SampleGenerators generators)
                {
                    using (no_grad())
                    using (Pipelines.SamplingLoop.Run(model, scheduler, steps, shape, generators)) { }
                }
                var (shared, perSample) = Fastest(() => Run(g), () => { using var gs = Process.SampleSeeds.Draw(g).Batch(0, shape[0]); Run(gs); }, repeats);
                Console.WriteLine($"| {name}, {label} | {shared:F3} | {perSample:F3} | {perSample / shared:F3} |");
            }
        }
        Console.WriteLine();
        Console.WriteLine("| one draw of | shared ms | per-sample ms | making the per-sample generators, ms |");
        Console.WriteLine("|---|---:|---:|---:|");
        foreach (var shape in new[] { images, [250, 1, 28, 28], pointShape })
        {
            using var perSampleGenerators = Process.SampleSeeds.Draw(g).Batch(0, shape[0]);
            var (shared, perSample) = Fastest(
                () => { using var z = Process.SampleGenerators.Shared(g).Randn(shape); },
                () => { using var z = perSampleGenerators.Randn(shape); },
                20 * repeats);
            var (making, _) = Fastest(() => { using var gs = Process.SampleSeeds.Draw(g).Batch(0, shape[0]); }, () => { }, repeats);
            Console.WriteLine($"| [{string.Join(", ", shape)}] | {shared * 1000:F3} | {perSample * 1000:F3} | {making * 1000:F3} |");
        }
        return 0;
    }

    /// <summary>One warm-up call of each, then <paramref name="n"/> turns; the fastest turn of each, in seconds.</summary>
    static (double A, double B) Fastest(Action a, Action b, int n)
    {
        a();
        b();
        double ta = double.PositiveInfinity, tb = double.PositiveInfinity;
        for (int i = 0; i < n; i++)
        {
            var clock = Stopwatch.StartNew();
            a();
            ta = Math.Min(ta, clock.Elapsed.TotalSeconds);
            clock.Restart();
            b();
            tb = Math.Min(tb, clock.Elapsed.TotalSeconds);
        }
        return (ta, tb);
    }

    /// <summary>One warm-up call of each, then <paramref name="n"/> turns; the total seconds of each.</summary>
    static (double A, double B) Alternate(Action a, Action b, int n)
    {
        a();
        b();
        double ta = 0, tb = 0;
        for (int i = 0; i < n; i++)
        {
            var clock = Stopwatch.StartNew();
            a();
            ta += clock.Elapsed.TotalSeconds;
            clock.Restart();
            b();
            tb += clock.Elapsed.TotalSeconds;
        }
        return (ta, tb);
    }

    /// <summary>
    /// Peak resident memory of sampling: <c>sample-memory N STEPS [fp32|bf16] [preset]</c> runs DDPM on a random U-Net
    /// for N images in one batch and prints the resident set after step STEPS/100 and at the end, and the peak (VmHWM).
    /// bench/memory.sh runs it at several N (memory per image) and at 100 and 10,000 steps (no growth).
    /// </summary>
    public static int SampleMemory(string[] args)
    {
        int n = int.Parse(args[0], CultureInfo.InvariantCulture);
        int steps = int.Parse(args[1], CultureInfo.InvariantCulture);
        var dtype = args.Length > 2 && args[2] == "bf16" ? ScalarType.BFloat16 : ScalarType.Float32;
        var config = UNetConfig.Preset(args.Length > 3 ? args[3] : "tiny");
        using var g = new Generator(0);
        using var model = new UNet2D(config);
        model.ResetParameters(g);
        model.eval();
        model.to(dtype);
        var scheduler = Sampling.Schedulers.Create("ddpm", new SchedulerConfig { NumTrainTimesteps = Math.Max(1000, steps) });
        long early = 0;
        int earlyStep = Math.Max(1, steps / 100);
        var progress = new SyncProgress<Pipelines.StepInfo>(s => { if (s.Step == earlyStep) early = Resident("VmRSS:"); });
        var clock = Stopwatch.StartNew();
        using (no_grad())
        using (var x = Pipelines.SamplingLoop.Run((xt, t) => model.forward(xt.to(dtype), t).to(ScalarType.Float32), scheduler, steps,
            [n, config.InChannels, config.ImageSize, config.ImageSize], g, progress)) { }
        long end = Resident("VmRSS:"), peak = Resident("VmHWM:");
        Console.WriteLine($"sample-memory n {n} steps {steps} {dtype}: resident {early / 1048576.0:F1} MiB after step {earlyStep}, {end / 1048576.0:F1} MiB at the end, peak {peak / 1048576.0:F1} MiB ({clock.Elapsed.TotalSeconds:F0} s)");
        return 0;
    }

    static long Resident(string key)
    {
        foreach (string line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith(key, StringComparison.Ordinal))
                return long.Parse(line[key.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
        return 0;
    }
}
