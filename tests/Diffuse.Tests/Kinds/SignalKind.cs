using System.Globalization;
using System.Text;
using Diffuse.Api;
using Diffuse.Configuration;
using Diffuse.Guidance;
using Diffuse.IO;
using Diffuse.Models;
using Diffuse.Pipelines;
using Diffuse.Sampling;
using Diffuse.ScoreSampling;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Diffuse.Tests.Kinds;

/// <summary>
/// A data kind the library does not know, registered from the test project (<see cref="Register"/>): 1-D signals
/// [B, C, T] (as audio will be), denoised by a test-only network (<see cref="SignalNetwork"/>) and written as CSV. It must
/// load, sample and write through the facade and the CLI's generic paths without a line of the library changed.
/// </summary>
public sealed class SignalKind : IDataKind
{
    /// <summary>The data name a signal model's config.json carries (how the kind recognises it).</summary>
    public const string DataName = "test-signals";

    public static SignalKind Instance { get; } = new();

    public string Name => "test-signals";

    public bool Recognises(ModelConfig config) => config.Data.Name == DataName;

    public long[] SampleShape(ModelConfig config)
    {
        var network = (SignalNetworkConfig)config.Network;
        return [network.Channels, network.Length];
    }

    public IDiffusionModel Load(string directory, bool useEma) => SignalModel.Load(directory, useEma);

    public string DefaultSampler => "ddim";

    public Precision DefaultPrecision => Precision.Fp32;

    public IReadOnlyList<string> OutputExtensions { get; } = [".csv"];

    /// <summary>One row per sample and channel: sample,channel,v0,v1,... (round-trip floats).</summary>
    public string WriteSamples(Tensor samples, SampleOutput output)
    {
        if (output.Folder) throw new DiffuseException("signals are written to one .csv file");
        long n = samples.shape[0], channels = samples.shape[1];
        var values = samples.contiguous().data<float>().ToArray();
        long length = samples.shape[2];
        var csv = new StringBuilder();
        for (long i = 0; i < n; i++)
            for (long c = 0; c < channels; c++)
            {
                csv.Append(i).Append(',').Append(c);
                for (long k = 0; k < length; k++)
                    csv.Append(',').Append(values[(i * channels + c) * length + k].ToString("R", CultureInfo.InvariantCulture));
                csv.Append('\n');
            }
        AtomicFile.WriteAllText(output.Path, csv.ToString());
        return $"wrote {n} signals to {output.Path}";
    }

    /// <summary>Registers the kind and its network type (idempotent).</summary>
    public static void Register()
    {
        NetworkTypes.Register<SignalNetworkConfig>(SignalNetworkConfig.TypeName, config => new SignalNetwork(config));
        DataKinds.Register(Instance);
    }

    /// <summary>A signal model's config: <paramref name="channels"/> x <paramref name="length"/> samples, 20 timesteps.</summary>
    public static ModelConfig Config(int channels, int length) => new()
    {
        Network = new SignalNetworkConfig { Channels = channels, Length = length },
        Data = new DataSpec { Name = DataName, Dim = channels * length, Mean = new float[channels * length] },
        Scheduler = new SchedulerConfig { NumTrainTimesteps = 20 },
    };

    /// <summary>Writes a model folder of <paramref name="config"/> with the network's initial weights as both raw and EMA weights.</summary>
    public static void WriteFolder(string directory, ModelConfig config)
    {
        Directory.CreateDirectory(directory);
        using var network = NetworkTypes.Build(config.Network);
        ModelDirectory.WriteConfig(directory, config.ToJson());
        ModelDirectory.SaveWeights(Path.Combine(directory, ModelDirectory.ModelFile), network);
        ModelDirectory.SaveWeights(Path.Combine(directory, ModelDirectory.EmaFile), network);
    }
}

/// <summary>The test signals' network type: channels and length of the signals it takes.</summary>
public sealed record SignalNetworkConfig : NetworkConfig
{
    public const string TypeName = "test_signal";

    public override string Type { get; init; } = TypeName;
    public int Channels { get; init; } = 2;
    public int Length { get; init; } = 8;

    public override void Validate()
    {
        if (Type != TypeName) throw new DiffuseException($"network type '{Type}' is not {TypeName}");
        if (Channels < 1 || Length < 2 || Length % 2 != 0) throw new DiffuseException("signal channels must be at least 1 and the length even");
    }

    public override void CheckFits(ModelConfig config)
    {
        if (config.Data.Image is not null || config.Data.Dim != Channels * Length)
            throw new DiffuseException($"{TypeName} takes {Channels} x {Length} signals, not data of dim {config.Data.Dim}");
    }
}

/// <summary>x [B, C, T] and t to [B, C, T]: a linear map along time, a timestep embedding added, SiLU, another linear map.</summary>
public sealed class SignalNetwork : DenoiserNetwork
{
    private readonly SinusoidalEmbedding time_proj;
    private readonly Linear linear_in, linear_out;

    public SignalNetworkConfig Config { get; }

    public override NetworkConfig NetworkConfig => Config;

    public SignalNetwork(SignalNetworkConfig config) : base(nameof(SignalNetwork))
    {
        Config = config;
        time_proj = new SinusoidalEmbedding(config.Length);
        linear_in = nn.Linear(config.Length, config.Length);
        linear_out = nn.Linear(config.Length, config.Length);
        RegisterComponents();
    }

    public override Tensor Forward(DenoiserInput input)
    {
        if (!input.Condition.IsEmpty) throw Refuses("conditions");
        using var scope = NewDisposeScope();
        var h = linear_in.forward(input.X) + time_proj.forward(input.T).to(input.X.dtype).unsqueeze(1);
        return linear_out.forward(nn.functional.silu(h)).MoveToOuterDisposeScope();
    }
}

/// <summary>A loaded signal model: batched sampling with per-sample generators, as the library's models do.</summary>
public sealed class SignalModel : IDiffusionModel
{
    const int BatchSize = 3;

    private SignalModel(string directory, ModelConfig config, DenoiserNetwork network) => (Directory, Config, Network) = (directory, config, network);

    public string Directory { get; }
    public ModelConfig Config { get; }
    public DenoiserNetwork Network { get; }

    public static SignalModel Load(string directory, bool useEma)
    {
        var config = ModelLoading.ReadConfig(directory);
        return new SignalModel(directory, config, ModelLoading.LoadNetwork(directory, useEma, config.Network));
    }

    public Tensor Sample(long n, IScheduler scheduler, int steps, Generator generator, ISamplingConditioning? conditioning, IProgress<StepInfo>? progress = null)
    {
        var plan = conditioning ?? Unconditional.Instance;
        plan.Validate(Config, Directory, n);
        long[] one = SignalKind.Instance.SampleShape(Config);
        return SampleBatches.Run(n, BatchSize, steps, generator, progress, one.Aggregate(1L, (a, b) => a * b), (start, size, generators, batchProgress) =>
        {
            long[] shape = [size, .. one];
            var denoise = plan.Denoiser(Network.Forward, Config, new SamplingBatch(start, shape, generators));
            return SamplingLoop.Run(denoise, scheduler, steps, shape, generators, batchProgress);
        });
    }

    public long StepsFor(long n, int steps) => SampleBatches.Count(n, BatchSize) * steps;

    public Tensor Denoise(Tensor x, Tensor t) => Network.forward(x, t);

    public ScoreSample SampleScore(long n, ScoreSamplerSettings settings, Generator generator, IProgress<StepInfo>? progress = null) =>
        throw new DiffuseException("test signals sample with the schedulers only");

    public void Dispose() => Network.Dispose();
}
