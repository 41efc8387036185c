using Diffuse.Pipelines;

namespace Diffuse.Cli;

/// <summary>
/// <c>--cascade BASE,SR</c> and <c>--cond-noise S</c> of <c>sample</c> and <c>eval</c>: a base model and a super-resolution
/// model run one after the other (<see cref="Cascade"/>), both with the same sampler settings.
/// </summary>
public sealed class LoadedCascade : IDisposable
{
    private LoadedCascade(ImageModel baseModel, ImageModel superResolution, Cascade cascade, int level)
    {
        Base = baseModel;
        SuperResolutionModel = superResolution;
        Cascade = cascade;
        NoiseLevel = level;
    }

    public ImageModel Base { get; }
    public ImageModel SuperResolutionModel { get; }
    public Cascade Cascade { get; }
    public int NoiseLevel { get; }

    /// <summary>Loads the base model <c>dirs[0]</c> and the super-resolution model <c>dirs[1]</c> by <paramref name="load"/>; every mismatch is a one-line error.</summary>
    public static LoadedCascade Load(IReadOnlyList<string> dirs, SamplerSettings options, Func<string, ImageModel> load, int level)
    {
        if (options.Score is not null)
            throw new UsageException($"a cascade runs with the schedulers (ddim, ddpm, dpmpp_2m, ...), not the score sampler '{options.Sampler}'");
        var baseModel = load(dirs[0]);
        ImageModel? superResolution = null;
        try
        {
            superResolution = load(dirs[1]);
            if (superResolution.Config.SuperRes is null)
                throw new DiffuseException($"the second stage of a cascade must be a super-resolution model (train --task superres), but '{dirs[1]}' is not one");
            var cascade = new Cascade(baseModel, new SuperResolution(superResolution));
            cascade.SuperResolution.CheckNoiseLevel(level);
            return new LoadedCascade(baseModel, superResolution, cascade, level);
        }
        catch
        {
            superResolution?.Dispose();
            baseModel.Dispose();
            throw;
        }
    }

    /// <summary>Samples the cascade with one progress bar over both stages.</summary>
    public TorchSharp.torch.Tensor Sample(SamplerSettings options, long n, TorchSharp.torch.Generator generator, Guidance.ISamplingConditioning? conditioning = null)
    {
        int Steps(ImageModel model)
        {
            int steps = options.StepsFor(model);
            if (steps > model.Config.Scheduler.NumTrainTimesteps)
                throw new UsageException($"--steps {steps} exceeds the {model.Config.Scheduler.NumTrainTimesteps} training timesteps of '{model.Directory}'");
            return steps;
        }
        var first = (options.CreateScheduler(Base), Steps(Base));
        var second = (options.CreateScheduler(SuperResolutionModel), Steps(SuperResolutionModel));
        long total = Base.StepsFor(n, first.Item2) + SuperResolutionModel.StepsFor(n, second.Item2);
        return ProgressDisplay.Run($"cascade {options.Sampler}", (int)Math.Min(int.MaxValue, total), report =>
            Cascade.Sample(n, first, second, generator, NoiseLevel, conditioning, new SyncProgress<StepInfo>(s => report(s.Step, $"t={s.Timestep:0.##}"))));
    }

    /// <summary>How the cascade was run, for reports.</summary>
    public string Label(SamplerSettings options) =>
        $"cascade {Base.Image.Width}x{Base.Image.Height} -> {SuperResolutionModel.Image.Width}x{SuperResolutionModel.Image.Height}, {options.Label(SuperResolutionModel)} a stage" +
        (NoiseLevel > 0 ? $", conditioning noise level {NoiseLevel}" : "");

    public void Dispose()
    {
        Base.Dispose();
        SuperResolutionModel.Dispose();
    }
}
