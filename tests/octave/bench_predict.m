function bench_predict()
% BENCH_PREDICT  Times predict (tconv through the MEX gateway) against the
% plain Octave reference loop of the tests (tconv_ref.m) on the README's
% layer: transposedConv2dLayer(11, 96, 'Stride', 4) on a 13x13x256x2 single
% input (59x59x96x2 output). Prints the best of several runs of each (the
% machine may be shared) and the largest difference between the two.
%   bash scripts/octave.sh --path tests/octave --eval bench_predict
  l = initialize(transposedConv2dLayer(11, 96, 'Stride', 4), [13 13 256], 'Seed', 1);
  x = randn(13, 13, 256, 2, 'single');
  y = predict(l, x);                       % plans (cached by the gateway) and warms up
  t_tconv = inf;
  for i = 1:20
    tic;
    y = predict(l, x);
    t_tconv = min(t_tconv, toc);
  end
  t_ref = inf;
  for i = 1:3
    tic;
    r = tconv_ref(x, l.Weights, l.Bias, l.Stride, [1 1], [0 0 0 0]);
    t_ref = min(t_ref, toc);
  end
  err = max(abs(double(y(:)) - r(:))) / max(abs(r(:)));
  printf('layer: transposedConv2dLayer(11, 96, ''Stride'', 4), X 13x13x256x2 single -> Y %s\n', ...
         mat2str(size(y)));
  printf('predict (tconv): %.2f ms, best of 20\n', 1e3 * t_tconv);
  printf('reference loop (Octave, tests/octave/tconv_ref.m): %.0f ms, best of 3\n', 1e3 * t_ref);
  printf('predict is %.0fx faster; max relative difference %.2g\n', t_ref / t_tconv, err);
  printf('Octave %s, tconv %s, %d CPUs\n', version(), tconv_mex('version'), nproc());
end
