using Diffuse.Schedules;
using static TorchSharp.torch;

namespace Diffuse.Process;

/// <summary>
/// Timesteps drawn so that the noise level sigma(t) = sqrt((1 - abar_t) / abar_t) is log-normal, ln sigma ~ N(P_mean,
/// P_std^2): the training distribution of noise levels of Karras et al. 2022 (EDM, arXiv:2206.00364, Sec. 5 and Table 1,
/// P_mean = -1.2, P_std = 1.2), carried to a discrete-time model. Each timestep takes the probability mass of the
/// log-normal over its bin of ln sigma, the bins split halfway (in ln sigma) between neighbouring timesteps, the first
/// and last open-ended. No importance weights: the point is to spend training on the noise levels that matter for
/// samples (the middle ones), not to estimate the uniform-t loss. Stateless; draws with the run's generator.
/// </summary>
public sealed class LogNormalTimesteps
{
    private readonly double[] _probabilities;

    public LogNormalTimesteps(NoiseSchedule schedule, double mean, double std)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        if (!double.IsFinite(mean)) throw new DiffuseException($"the log-normal mean of ln sigma must be finite, got {mean}");
        if (!(std > 0 && double.IsFinite(std))) throw new DiffuseException($"the log-normal std of ln sigma must be positive, got {std}");
        Mean = mean;
        Std = std;
        int n = schedule.NumTrainTimesteps;
        var logSigma = new double[n];
        for (int t = 0; t < n; t++) logSigma[t] = Math.Log(schedule.Sigma(t));
        for (int t = 1; t < n; t++)
            if (!(logSigma[t] > logSigma[t - 1]))
                throw new DiffuseException($"the log-normal timestep sampler needs noise levels that grow with t; sigma({t}) = {Math.Exp(logSigma[t]):G4} does not exceed sigma({t - 1})");
        // The normal CDF at each bin's upper edge (the last bin is open-ended), in float64 by libtorch's ndtr.
        var edges = new double[n - 1];
        for (int t = 0; t < n - 1; t++) edges[t] = ((logSigma[t] + logSigma[t + 1]) / 2 - mean) / std;
        using (NewDisposeScope())
        {
            var upper = special.ndtr(tensor(edges, float64)).data<double>().ToArray();
            _probabilities = new double[n];
            double lower = 0;
            for (int t = 0; t < n; t++)
            {
                double u = t == n - 1 ? 1 : upper[t];
                _probabilities[t] = u - lower;
                lower = u;
            }
        }
    }

    /// <summary>P_mean: the mean of ln sigma.</summary>
    public double Mean { get; }

    /// <summary>P_std: the standard deviation of ln sigma.</summary>
    public double Std { get; }

    /// <summary>The probability of each timestep [T] (sums to 1).</summary>
    public double[] Probabilities => (double[])_probabilities.Clone();

    /// <summary><paramref name="batchSize"/> timesteps (int64, on the CPU) drawn with <paramref name="generator"/>.</summary>
    public Tensor Sample(long batchSize, Generator generator)
    {
        ArgumentNullException.ThrowIfNull(generator);
        using var p = tensor(_probabilities, float64);
        return multinomial(p, batchSize, replacement: true, generator: generator);
    }
}
